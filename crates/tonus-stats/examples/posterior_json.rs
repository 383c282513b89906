//! Reads `{"cases": [{"estimate", "se", "df" | null, "prior_sd", "level", "fall_margin",
//! "rise_margin"}, ..]}` on stdin and prints the posterior summaries (model scale) as a JSON
//! list. Used by the Python reference check tests/reference/test_posterior.py.

use std::io::Read;

use serde::Deserialize;
use tonus_stats::posterior::{summarise, Likelihood};

#[derive(Deserialize)]
struct Case {
    estimate: f64,
    se: f64,
    df: Option<f64>,
    prior_sd: f64,
    level: f64,
    fall_margin: f64,
    rise_margin: f64,
}

#[derive(Deserialize)]
struct Input {
    cases: Vec<Case>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let input: Input = serde_json::from_str(&text)?;
    let out = input
        .cases
        .iter()
        .map(|c| {
            let lik = Likelihood {
                estimate: c.estimate,
                se: c.se,
                df: c.df,
            };
            summarise(lik, c.prior_sd, c.level, c.fall_margin, c.rise_margin)
        })
        .collect::<Result<Vec<_>, _>>()?;
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
