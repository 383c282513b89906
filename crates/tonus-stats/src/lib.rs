//! Pure analysis for Tonus: the patient simulator (known truth), n-of-1 trial designs and
//! the models that analyse them. No I/O: callers pass plain data in and get plain data out.

pub mod analysis;
pub mod bayes;
pub mod design;
pub mod error;
pub mod exercise;
pub mod hac;
pub mod linalg;
pub mod model;
pub mod series;
pub mod sim;
pub mod trial_sim;
pub mod verdict;

pub use error::{Result, StatsError};
