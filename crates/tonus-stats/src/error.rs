//! Errors of the statistics crate. Each variant names what was wrong and with which value,
//! so a caller (CLI, web) can show it without guessing.

use thiserror::Error;

/// Anything that can go wrong while designing or analysing a trial.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StatsError {
    /// A trial design field broke a rule; `field` and `rule` are meant for display.
    #[error("invalid trial design: {field} {rule}")]
    InvalidDesign { field: &'static str, rule: String },
    /// Input data had the wrong shape (lengths, empty, non-finite values).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// Fewer usable observations than the model needs.
    #[error("not enough data: {needed} usable days needed, {got} available ({context})")]
    NotEnoughObservations { needed: usize, got: usize, context: String },
    /// A matrix that must be invertible was (numerically) singular.
    #[error("singular matrix in {context}: a column of the design is constant or duplicated")]
    Singular { context: &'static str },
    /// An iterative fit did not converge.
    #[error("{model} fit did not converge after {iterations} iterations")]
    NoConvergence { model: &'static str, iterations: usize },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StatsError>;
