//! Reads `{"level": 0.95, "cases": [[{"estimate", "se"}, ..], ..]}` on stdin and prints, per
//! case, `{"reml": Pooled, "dl": Pooled}` as a JSON list. Used by the Python reference check
//! tests/reference/test_pooled.py.

use std::io::Read;

use serde::{Deserialize, Serialize};
use tonus_stats::pooled::{pool, pool_dl, Pooled, Study};

#[derive(Deserialize)]
struct Input {
    level: f64,
    cases: Vec<Vec<Study>>,
}

#[derive(Serialize)]
struct Out {
    reml: Pooled,
    dl: Pooled,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let input: Input = serde_json::from_str(&text)?;
    let out = input
        .cases
        .iter()
        .map(|c| {
            Ok(Out {
                reml: pool(c, input.level)?,
                dl: pool_dl(c, input.level)?,
            })
        })
        .collect::<Result<Vec<_>, tonus_stats::StatsError>>()?;
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
