//! Reads one data set as JSON on stdin, fits it with tonus-stats and prints the estimates as
//! JSON. Used by the Python reference checks (tests/reference) and the benchmark.
//!
//! Input: `{"model": "negative_binomial" | "quasi_poisson" | "ols", "y": [..],
//!          "x": [[..], ..] | null, "arms": [0, 1, ..] | null, "trend": false,
//!          "maxlags": 4 | null, "use_correction": false, "times": [..] | null,
//!          "repeat": 1}`
//! Either `x` (full design matrix, rows) or `arms` (arm index per day, 0 = reference) is given.
//! `repeat` > 1 runs fit + HAC that many times and reports the mean seconds per run.
//! Optional `"interval": {"level": 0.95, "use_t": true, "fixed_b": true}` adds intervals and
//! p-values computed as the trial analysis does (HAC SE × fixed-b factor, t or normal).

use std::io::Read;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tonus_stats::analysis::{critical_and_p, fixed_b_factor, AnalysisOptions};
use tonus_stats::hac::{newey_west_maxlags, HacOptions};
use tonus_stats::linalg::Matrix;
use tonus_stats::model::{arm_design_matrix, fit, ModelKind};

#[derive(Deserialize)]
struct Input {
    model: ModelKind,
    y: Vec<f64>,
    x: Option<Vec<Vec<f64>>>,
    arms: Option<Vec<usize>>,
    #[serde(default)]
    trend: bool,
    maxlags: Option<usize>,
    #[serde(default)]
    use_correction: bool,
    times: Option<Vec<u32>>,
    repeat: Option<usize>,
    /// If given, also report intervals and p-values as the trial analysis computes them.
    interval: Option<IntervalInput>,
}

#[derive(Deserialize)]
struct IntervalInput {
    level: f64,
    use_t: bool,
    fixed_b: bool,
}

#[derive(Serialize)]
struct IntervalOutput {
    critical: f64,
    se: Vec<f64>,
    ci_low: Vec<f64>,
    ci_high: Vec<f64>,
    p_value: Vec<f64>,
    df: usize,
    fixed_b_factor: f64,
}

#[derive(Serialize)]
struct Output {
    model: ModelKind,
    params: Vec<f64>,
    bse_nonrobust: Vec<f64>,
    bse_hac: Vec<f64>,
    cov_hac: Vec<Vec<f64>>,
    alpha: Option<f64>,
    loglik: f64,
    scale: f64,
    nobs: usize,
    maxlags: usize,
    iterations: usize,
    seconds_per_run: f64,
    interval: Option<IntervalOutput>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let input: Input = serde_json::from_str(&text)?;
    let x = match (&input.x, &input.arms) {
        (Some(rows), _) => {
            let cols = rows.first().map_or(0, Vec::len);
            Matrix::from_row_major(rows.len(), cols, rows.concat())?
        }
        (None, Some(arms)) => {
            let n_arms = arms.iter().max().map_or(1, |m| m + 1);
            arm_design_matrix(arms, n_arms, input.times.as_deref(), input.trend)?
        }
        (None, None) => return Err("give either x or arms".into()),
    };
    let options = HacOptions {
        maxlags: input.maxlags,
        small_sample: input.use_correction,
    };
    let repeat = input.repeat.unwrap_or(1).max(1);
    let start = Instant::now();
    let mut last = None;
    for _ in 0..repeat {
        let f = fit(input.model, &input.y, &x)?;
        let cov = f.cov_hac(&options, input.times.as_deref())?;
        last = Some((f, cov));
    }
    let seconds_per_run = start.elapsed().as_secs_f64() / repeat as f64;
    let (f, cov) = last.ok_or("no run")?;
    let maxlags = input.maxlags.unwrap_or_else(|| newey_west_maxlags(f.nobs));
    let interval = match &input.interval {
        None => None,
        Some(iv) => {
            let options = AnalysisOptions {
                level: iv.level,
                use_t: iv.use_t,
                fixed_b: iv.fixed_b,
                ..AnalysisOptions::default()
            };
            let factor = if iv.fixed_b {
                fixed_b_factor(maxlags, f.nobs)
            } else {
                1.0
            };
            let se: Vec<f64> = cov.diagonal().iter().map(|v| v.sqrt() * factor).collect();
            let mut out = IntervalOutput {
                critical: 0.0,
                se: se.clone(),
                ci_low: Vec::new(),
                ci_high: Vec::new(),
                p_value: Vec::new(),
                df: f.df_resid(),
                fixed_b_factor: factor,
            };
            for (p, s) in f.params.iter().zip(&se) {
                let (crit, pv) = critical_and_p(f.df_resid() as f64, &options, p / s)?;
                out.critical = crit;
                out.ci_low.push(p - crit * s);
                out.ci_high.push(p + crit * s);
                out.p_value.push(pv);
            }
            Some(out)
        }
    };
    let out = Output {
        model: f.kind,
        bse_nonrobust: f.cov_nonrobust.diagonal().iter().map(|v| v.sqrt()).collect(),
        bse_hac: cov.diagonal().iter().map(|v| v.sqrt()).collect(),
        cov_hac: (0..cov.rows).map(|i| cov.row(i).to_vec()).collect(),
        alpha: f.alpha(),
        loglik: f.loglik,
        scale: f.scale,
        nobs: f.nobs,
        maxlags,
        iterations: f.iterations,
        params: f.params,
        seconds_per_run,
        interval,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
