//! Regression fits used by the analyses: negative binomial (NB2) and quasi-Poisson for daily
//! counts, ordinary least squares for daily scores.
//!
//! Every fit keeps its per-observation scores and the inverse Hessian ("bread") so that
//! [`crate::hac`] can build autocorrelation-robust standard errors afterwards. Conventions
//! follow statsmodels so the reference checks can compare to 1e-6:
//! - NB2 is `statsmodels.discrete.NegativeBinomial` (loglike_method "nb2"): parameters are
//!   the coefficients followed by `alpha` (Var = μ + αμ²), and the sandwich uses the full
//!   (k+1)-parameter scores and observed Hessian.
//! - Quasi-Poisson is a Poisson GLM with scale = Pearson χ²/(n−k).
//! - OLS uses `(XᵀX)⁻¹` as bread and `x_i·e_i` as scores.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};
use crate::hac::{hac_meat, newey_west_maxlags, sandwich, HacOptions};
use crate::linalg::Matrix;

/// Which model was fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// NB2 by maximum likelihood (coefficients and alpha jointly).
    NegativeBinomial,
    /// Poisson mean model with Pearson scale.
    QuasiPoisson,
    /// Ordinary least squares.
    Ols,
}

/// A fitted regression with what is needed for model-based and HAC covariances.
#[derive(Debug, Clone)]
pub struct Fit {
    pub kind: ModelKind,
    /// Coefficients, then `alpha` last for the negative binomial.
    pub params: Vec<f64>,
    /// Number of regression coefficients (excludes alpha).
    pub k_beta: usize,
    /// Model-based covariance of `params`.
    pub cov_nonrobust: Matrix,
    /// Per-observation score contributions (n × params.len()).
    pub scores: Matrix,
    /// Inverse Hessian (or `(XᵀX)⁻¹`), the bread of the sandwich.
    pub bread: Matrix,
    /// Log-likelihood (Poisson log-likelihood for quasi-Poisson).
    pub loglik: f64,
    /// Dispersion scale (1 for NB, Pearson scale for quasi-Poisson, σ² for OLS).
    pub scale: f64,
    pub nobs: usize,
    pub iterations: usize,
}

impl Fit {
    /// NB2 dispersion α, if this is a negative binomial fit.
    pub fn alpha(&self) -> Option<f64> {
        match self.kind {
            ModelKind::NegativeBinomial => self.params.last().copied(),
            _ => None,
        }
    }

    /// HAC covariance of `params`; `times` are the observations' day numbers (None = rows).
    pub fn cov_hac(&self, options: &HacOptions, times: Option<&[u32]>) -> Result<Matrix> {
        let lags = options.maxlags.unwrap_or_else(|| newey_west_maxlags(self.nobs));
        let meat = hac_meat(&self.scores, times, lags)?;
        sandwich(&self.bread, &meat, self.nobs, options.small_sample)
    }

    /// Residual degrees of freedom `n − number of params`.
    pub fn df_resid(&self) -> usize {
        self.nobs.saturating_sub(self.params.len())
    }
}

fn check_inputs(y: &[f64], x: &Matrix, model: &str) -> Result<()> {
    if y.len() != x.rows {
        return Err(StatsError::InvalidData(format!(
            "{model}: {} outcomes but {} design rows",
            y.len(),
            x.rows
        )));
    }
    if x.rows <= x.cols {
        return Err(StatsError::NotEnoughObservations {
            needed: x.cols + 1,
            got: x.rows,
            context: format!("{model} with {} coefficients", x.cols),
        });
    }
    if y.iter().chain(x.data.iter()).any(|v| !v.is_finite()) {
        return Err(StatsError::InvalidData(format!("{model}: non-finite value in data")));
    }
    Ok(())
}

fn check_counts(y: &[f64], model: &str) -> Result<()> {
    if let Some(v) = y.iter().find(|v| **v < 0.0 || v.fract() != 0.0) {
        return Err(StatsError::InvalidData(format!(
            "{model}: outcome must be a non-negative whole count, got {v}"
        )));
    }
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `Xᵀ diag(w) X`.
fn xtwx(x: &Matrix, w: &[f64]) -> Matrix {
    let k = x.cols;
    let mut m = Matrix::zeros(k, k);
    for (i, wi) in w.iter().enumerate() {
        let r = x.row(i);
        for a in 0..k {
            let ra = r[a] * wi;
            for (b, rb) in r.iter().enumerate().skip(a) {
                m.add(a, b, ra * rb);
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            let v = m.get(b, a);
            m.set(a, b, v);
        }
    }
    m
}

fn ln_factorial(y: f64) -> f64 {
    statrs::function::gamma::ln_gamma(y + 1.0)
}

/// Poisson regression by IRLS; returns coefficients, fitted means and iterations.
fn poisson_irls(y: &[f64], x: &Matrix) -> Result<(Vec<f64>, Vec<f64>, usize)> {
    const MAX_IT: usize = 100;
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    if mean <= 0.0 {
        return Err(StatsError::InvalidData(
            "all counts are zero: a rate model cannot be fitted".into(),
        ));
    }
    // Start from the data (shrunk towards the mean so zeros do not give log 0).
    let mut mu: Vec<f64> = y.iter().map(|v| (v + mean) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut beta = vec![0.0; x.cols];
    for it in 1..=MAX_IT {
        let z: Vec<f64> = (0..n).map(|i| eta[i] + (y[i] - mu[i]) / mu[i]).collect();
        let info = xtwx(x, &mu);
        let mut rhs = vec![0.0; x.cols];
        for i in 0..n {
            for (a, r) in rhs.iter_mut().enumerate() {
                *r += x.get(i, a) * mu[i] * z[i];
            }
        }
        let new_beta = info.solve(&rhs, "Poisson IRLS")?;
        let change = new_beta
            .iter()
            .zip(&beta)
            .fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
        beta = new_beta;
        for i in 0..n {
            eta[i] = dot(x.row(i), &beta);
            mu[i] = eta[i].exp();
        }
        if change < 1e-11 && it > 1 {
            return Ok((beta, mu, it));
        }
    }
    Err(StatsError::NoConvergence {
        model: "Poisson IRLS",
        iterations: MAX_IT,
    })
}

/// Quasi-Poisson: Poisson mean model, variance `scale·μ` with scale = Pearson χ²/(n−k).
pub fn fit_quasi_poisson(y: &[f64], x: &Matrix) -> Result<Fit> {
    check_inputs(y, x, "quasi-Poisson")?;
    check_counts(y, "quasi-Poisson")?;
    let (beta, mu, iterations) = poisson_irls(y, x)?;
    let n = y.len();
    let k = x.cols;
    let pearson: f64 = y.iter().zip(&mu).map(|(y, m)| (y - m).powi(2) / m).sum();
    let scale = pearson / (n - k) as f64;
    let bread = xtwx(x, &mu).inverse("quasi-Poisson information")?;
    let mut scores = Matrix::zeros(n, k);
    for i in 0..n {
        for a in 0..k {
            scores.set(i, a, x.get(i, a) * (y[i] - mu[i]));
        }
    }
    let loglik = y.iter().zip(&mu).map(|(y, m)| y * m.ln() - m - ln_factorial(*y)).sum();
    Ok(Fit {
        kind: ModelKind::QuasiPoisson,
        params: beta,
        k_beta: k,
        cov_nonrobust: bread.scaled(scale),
        scores,
        bread,
        loglik,
        scale,
        nobs: n,
        iterations,
    })
}

/// Ordinary least squares.
pub fn fit_ols(y: &[f64], x: &Matrix) -> Result<Fit> {
    check_inputs(y, x, "OLS")?;
    let n = y.len();
    let k = x.cols;
    let bread = xtwx(x, &vec![1.0; n]).inverse("OLS XᵀX")?;
    let mut xty = vec![0.0; k];
    for (i, yi) in y.iter().enumerate() {
        for (a, v) in xty.iter_mut().enumerate() {
            *v += x.get(i, a) * yi;
        }
    }
    let beta: Vec<f64> = (0..k).map(|a| dot(bread.row(a), &xty)).collect();
    let resid: Vec<f64> = (0..n).map(|i| y[i] - dot(x.row(i), &beta)).collect();
    let rss: f64 = resid.iter().map(|e| e * e).sum();
    let scale = rss / (n - k) as f64;
    let mut scores = Matrix::zeros(n, k);
    for (i, e) in resid.iter().enumerate() {
        for a in 0..k {
            scores.set(i, a, x.get(i, a) * e);
        }
    }
    let nf = n as f64;
    let loglik = -nf / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (rss / nf).ln() + 1.0);
    Ok(Fit {
        kind: ModelKind::Ols,
        params: beta,
        k_beta: k,
        cov_nonrobust: bread.scaled(scale),
        scores,
        bread,
        loglik,
        scale,
        nobs: n,
        iterations: 1,
    })
}

/// NB2 log-likelihood, full gradient, Hessian and per-observation scores in (β, α).
struct NbDerivs {
    loglik: f64,
    grad: Vec<f64>,
    hess: Matrix,
    scores: Matrix,
}

fn nb_derivs(y: &[f64], x: &Matrix, beta: &[f64], alpha: f64, want_scores: bool) -> NbDerivs {
    let n = y.len();
    let k = x.cols;
    let p = k + 1;
    let theta = 1.0 / alpha;
    let mut loglik = 0.0;
    let mut grad = vec![0.0; p];
    let mut hess = Matrix::zeros(p, p);
    let mut scores = Matrix::zeros(if want_scores { n } else { 0 }, p);
    for (i, &yi) in y.iter().enumerate() {
        let xi = x.row(i);
        let mu = dot(xi, beta).exp();
        // Sums over j < y of 1/(θ+j) etc. are the exact digamma/trigamma differences for
        // whole counts; counts per day are small, so the loop is cheap and precise.
        let (mut lg, mut dg, mut tg) = (0.0, 0.0, 0.0);
        let yc = yi as u64;
        for j in 0..yc {
            let t = theta + j as f64;
            lg += t.ln();
            dg += 1.0 / t;
            tg += 1.0 / (t * t);
        }
        let tm = theta + mu;
        loglik += lg - ln_factorial(yi) + theta * theta.ln() + yi * mu.ln() - (theta + yi) * tm.ln();
        let one_am = 1.0 + alpha * mu;
        let sb = (yi - mu) / one_am; // d ll / d eta
        let dtheta = dg + theta.ln() + 1.0 - tm.ln() - (theta + yi) / tm;
        let sa = -dtheta / (alpha * alpha);
        let d2theta = -tg + 1.0 / theta - 1.0 / tm - (mu - yi) / (tm * tm);
        let haa = d2theta / alpha.powi(4) + dtheta * 2.0 / alpha.powi(3);
        let hbb = -mu * (1.0 + alpha * yi) / (one_am * one_am);
        let hba = -mu * (yi - mu) / (one_am * one_am);
        for a in 0..k {
            grad[a] += sb * xi[a];
            if want_scores {
                scores.set(i, a, sb * xi[a]);
            }
            for b in 0..k {
                hess.add(a, b, hbb * xi[a] * xi[b]);
            }
            hess.add(a, k, hba * xi[a]);
            hess.add(k, a, hba * xi[a]);
        }
        grad[k] += sa;
        if want_scores {
            scores.set(i, k, sa);
        }
        hess.add(k, k, haa);
    }
    NbDerivs {
        loglik,
        grad,
        hess,
        scores,
    }
}

/// Smallest α we keep estimating; below it the data show no overdispersion and the fit is
/// reported as failed so callers can fall back to quasi-Poisson.
pub const MIN_ALPHA: f64 = 1e-8;

/// Negative binomial (NB2) regression by Newton–Raphson on (β, ln α) with step halving,
/// started from the Poisson fit. Errors if α runs to 0 (no overdispersion).
pub fn fit_negative_binomial(y: &[f64], x: &Matrix) -> Result<Fit> {
    const MAX_IT: usize = 200;
    check_inputs(y, x, "negative binomial")?;
    check_counts(y, "negative binomial")?;
    let (mut beta, mu, _) = poisson_irls(y, x)?;
    let n = y.len();
    let k = x.cols;
    // Moment start for alpha: E[(y−μ)² − μ] = αμ².
    let num: f64 = y.iter().zip(&mu).map(|(y, m)| (y - m).powi(2) - m).sum();
    let den: f64 = mu.iter().map(|m| m * m).sum();
    let mut alpha = (num / den).clamp(0.05, 10.0);
    let mut d = nb_derivs(y, x, &beta, alpha, false);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_IT {
        iterations += 1;
        // Newton in (β, η = ln α): keeps α positive and the surface closer to quadratic.
        let mut g = d.grad.clone();
        g[k] *= alpha;
        let mut h = d.hess.clone();
        for a in 0..k {
            let v = h.get(a, k) * alpha;
            h.set(a, k, v);
            h.set(k, a, v);
        }
        h.set(k, k, d.hess.get(k, k) * alpha * alpha + d.grad[k] * alpha);
        let mut neg = h.scaled(-1.0);
        // Levenberg damping if the Hessian is not negative definite far from the optimum.
        let mut lambda = 0.0;
        while !neg.is_positive_definite() {
            lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
            if lambda > 1e12 {
                return Err(StatsError::NoConvergence {
                    model: "negative binomial",
                    iterations,
                });
            }
            neg = h.scaled(-1.0);
            for a in 0..=k {
                neg.add(a, a, lambda * (1.0 + h.get(a, a).abs()));
            }
        }
        let step = neg.solve(&g, "negative binomial Newton step")?;
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let nb: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let na = (alpha.ln() + t * step[k]).exp();
            if na.is_finite() && na > 0.0 {
                let nd = nb_derivs(y, x, &nb, na, false);
                if nd.loglik.is_finite() && nd.loglik >= d.loglik - 1e-12 * d.loglik.abs() {
                    beta = nb;
                    alpha = na;
                    d = nd;
                    accepted = true;
                    break;
                }
            }
            t /= 2.0;
        }
        let max_step = step.iter().fold(0.0_f64, |m, s| m.max((t * s).abs()));
        if alpha < MIN_ALPHA {
            return Err(StatsError::InvalidData(
                "negative binomial: no overdispersion (alpha → 0); use quasi-Poisson".into(),
            ));
        }
        if !accepted || max_step < 1e-11 {
            converged = accepted || max_step < 1e-9;
            break;
        }
    }
    if !converged {
        return Err(StatsError::NoConvergence {
            model: "negative binomial",
            iterations,
        });
    }
    let d = nb_derivs(y, x, &beta, alpha, true);
    let bread = d.hess.inverse("negative binomial Hessian")?;
    let cov_nonrobust = bread.scaled(-1.0);
    let mut params = beta;
    params.push(alpha);
    Ok(Fit {
        kind: ModelKind::NegativeBinomial,
        params,
        k_beta: k,
        cov_nonrobust,
        scores: d.scores,
        bread,
        loglik: d.loglik,
        scale: 1.0,
        nobs: n,
        iterations,
    })
}

/// Fits the requested model.
pub fn fit(kind: ModelKind, y: &[f64], x: &Matrix) -> Result<Fit> {
    match kind {
        ModelKind::NegativeBinomial => fit_negative_binomial(y, x),
        ModelKind::QuasiPoisson => fit_quasi_poisson(y, x),
        ModelKind::Ols => fit_ols(y, x),
    }
}

/// Design matrix for an n-of-1 comparison: intercept, one indicator per non-reference arm
/// (arm 0 is the reference) and, if asked, a linear time trend. The trend is centred and
/// scaled to [−0.5, 0.5] over the analysed span so the matrix stays well conditioned and
/// the intercept keeps its meaning ("reference arm mid-trial").
pub fn arm_design_matrix(arms: &[usize], n_arms: usize, times: Option<&[u32]>, trend: bool) -> Result<Matrix> {
    let n = arms.len();
    if n_arms == 0 {
        return Err(StatsError::InvalidData("design needs at least one arm".into()));
    }
    if let Some(a) = arms.iter().find(|a| **a >= n_arms) {
        return Err(StatsError::InvalidData(format!(
            "arm index {a} is out of range for {n_arms} arms"
        )));
    }
    let t: Vec<f64> = match times {
        Some(t) if t.len() == n => t.iter().map(|v| f64::from(*v)).collect(),
        Some(t) => {
            return Err(StatsError::InvalidData(format!(
                "{} day numbers for {n} observations",
                t.len()
            )))
        }
        None => (0..n).map(|i| i as f64).collect(),
    };
    let cols = n_arms + usize::from(trend);
    let mut x = Matrix::zeros(n, cols);
    let (lo, hi) = t.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    let span = (hi - lo).max(1.0);
    for (i, arm) in arms.iter().enumerate() {
        x.set(i, 0, 1.0);
        if *arm > 0 {
            x.set(i, *arm, 1.0);
        }
        if trend {
            x.set(i, n_arms, (t[i] - lo) / span - 0.5);
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Gamma, Poisson};

    fn nb_data(n: usize, alpha: f64, b0: f64, b1: f64, seed: u64) -> (Vec<f64>, Matrix) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Matrix::zeros(n, 2);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let arm = (i / 10 % 2) as f64;
            x.set(i, 0, 1.0);
            x.set(i, 1, arm);
            let mu = (b0 + b1 * arm).exp();
            let g = Gamma::new(1.0 / alpha, mu * alpha).unwrap().sample(&mut rng);
            y.push(Poisson::new(g.max(1e-12)).unwrap().sample(&mut rng));
        }
        (y, x)
    }

    #[test]
    fn nb_recovers_known_truth() {
        let (y, x) = nb_data(4000, 0.4, 1.5, -0.4, 1);
        let f = fit_negative_binomial(&y, &x).unwrap();
        assert!((f.params[1] + 0.4).abs() < 0.08, "{:?}", f.params);
        assert!((f.params[2] - 0.4).abs() < 0.08, "{:?}", f.params);
        // Gradient is zero at the optimum.
        let d = nb_derivs(&y, &x, &f.params[..2], f.params[2], false);
        assert!(d.grad.iter().all(|g| g.abs() < 1e-6), "{:?}", d.grad);
    }

    #[test]
    fn nb_gradient_matches_finite_differences() {
        let (y, x) = nb_data(60, 0.5, 1.0, 0.3, 2);
        let beta = [0.9, 0.2];
        let a = 0.6;
        let d = nb_derivs(&y, &x, &beta, a, false);
        let h = 1e-6;
        let l = |b: &[f64], a: f64| nb_derivs(&y, &x, b, a, false).loglik;
        let num_a = (l(&beta, a + h) - l(&beta, a - h)) / (2.0 * h);
        assert!((num_a - d.grad[2]).abs() < 1e-4 * (1.0 + num_a.abs()));
        let ga = |a: f64| nb_derivs(&y, &x, &beta, a, false).grad;
        let num_haa = (ga(a + h)[2] - ga(a - h)[2]) / (2.0 * h);
        assert!((num_haa - d.hess.get(2, 2)).abs() < 1e-3 * (1.0 + num_haa.abs()));
        let num_hba = (ga(a + h)[1] - ga(a - h)[1]) / (2.0 * h);
        assert!((num_hba - d.hess.get(1, 2)).abs() < 1e-3 * (1.0 + num_hba.abs()));
    }

    #[test]
    fn ols_fits_a_line_exactly() {
        let x = Matrix::from_row_major(4, 2, vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]).unwrap();
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = fit_ols(&y, &x).unwrap();
        assert!((f.params[0] - 1.0).abs() < 1e-12 && (f.params[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = Matrix::from_row_major(3, 1, vec![1.0; 3]).unwrap();
        assert!(fit_quasi_poisson(&[1.0, 2.5, 0.0], &x).is_err());
        assert!(fit_quasi_poisson(&[0.0, 0.0, 0.0], &x).is_err());
        assert!(fit_ols(&[1.0, 2.0], &x).is_err());
    }
}
