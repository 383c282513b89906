//! Pure analysis for Tonus: the patient simulator (known truth), n-of-1 trial designs and
//! the models that analyse them. No I/O: callers pass plain data in and get plain data out.
//!
//! - [`sim`], [`trial_sim`]: simulated patients (known truth), optionally following a trial.
//! - [`design`]: trial designs, validation and the day-by-day calendar.
//! - [`series`]: the daily record every analysis reads (only confirmed days count).
//! - [`analysis`]: trial and observational comparisons per outcome, with verdicts.
//! - [`exclusion`]: the pre-specified rule leaving out recorded relapses and infections.
//! - [`checks`]: carry-over and trend checks reported with every trial outcome.
//! - [`verdict`]: interval → verdict and plain-language text.
//! - [`monitoring`]: the rule for interim looks (a stricter interval before the last period).
//! - [`planning`]: power before starting, simulated from the patient's own recent diary.
//! - [`posterior`]: the effect's posterior under a weakly informative prior (intervals,
//!   verdicts and probabilities).
//! - [`pooled`]: several patients' trials of one comparison pooled (random effects).
//! - [`bayes`]: tempered gamma–Poisson probabilities for count comparisons.
//! - [`exercise`]: gentle-limit flags and next-day load effect.
//! - [`model`], [`hac`], [`linalg`]: NB2 / quasi-Poisson / OLS fits, Newey–West covariance,
//!   small dense matrices.

pub mod analysis;
pub mod bayes;
pub mod checks;
pub mod compare;
mod days;
pub mod design;
pub mod error;
pub mod exclusion;
pub mod exercise;
pub mod hac;
pub mod linalg;
pub mod model;
pub mod monitoring;
pub mod planning;
pub mod pooled;
pub mod posterior;
pub mod records;
pub mod series;
pub mod sim;
mod trial_analysis;
pub mod trial_sim;
pub mod verdict;
mod wording;

pub use error::{Result, StatsError};
