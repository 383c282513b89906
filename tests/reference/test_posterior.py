"""Reference check: the Bayesian summary of a comparison (tonus-stats `posterior`) against an
independent numerical integration with scipy.

The model: effect θ (log rate ratio or mean difference), prior N(0, prior_sd²), likelihood
Student t (df) or normal located at the robust estimate with its standard error. Here the
posterior is integrated with scipy.integrate.quad (adaptive Gauss–Kronrod, with the peaks as
break points) and its quantiles found with brentq; tonus-stats uses a fixed composite
Simpson grid. Tolerance: 1e-6 absolute on probabilities, 1e-6 × the posterior SD on the
median and interval ends.

Run from the repository root:  python -m pytest tests/reference -q
(set TONUS_POSTERIOR_JSON to a built posterior_json binary to skip the cargo build).
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from tonus_fit import posterior

PROB_TOL = 1e-6
QUANTILE_TOL = 1e-6  # in posterior SDs

LN_RR_SD = math.log(10) / 1.96
CASES = [
    # (estimate, se, df, prior_sd, level, fall_margin, rise_margin)
    (math.log(0.6), 0.12, 70.0, LN_RR_SD, 0.95, -math.log(0.7), math.log(1.3)),
    (math.log(0.9), 0.35, 12.0, LN_RR_SD, 0.95, -math.log(0.7), math.log(1.3)),
    (math.log(1.4), 0.8, 3.0, LN_RR_SD, 0.90, -math.log(0.8), math.log(1.2)),
    (math.log(0.25), 1.5, 1.0, LN_RR_SD, 0.95, -math.log(0.7), math.log(1.3)),
    (0.02, 0.004, None, LN_RR_SD, 0.95, -math.log(0.7), math.log(1.3)),
    (-1.1, 0.4, 40.0, 5.0, 0.95, 1.5, 1.5),
    (0.3, 2.5, 6.0, 5.0, 0.99, 0.9, 0.9),
    (4.0, 0.5, 2.0, LN_RR_SD, 0.95, -math.log(0.7), math.log(1.3)),
]


def reference(estimate, se, df, prior_sd, level, fall, rise):
    # The densities written out (scipy's frozen pdfs are ~50x slower per call and quad calls
    # them scalar by scalar); checked against scipy.stats below.
    if df is None:
        def lik(x):
            z = (x - estimate) / se
            return math.exp(-0.5 * z * z) / (se * math.sqrt(2 * math.pi))
    else:
        log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

        def lik(x):
            z = (x - estimate) / se
            return math.exp(log_c - (df + 1) / 2 * math.log1p(z * z / df)) / se

    def prior(x):
        z = x / prior_sd
        return math.exp(-0.5 * z * z) / (prior_sd * math.sqrt(2 * math.pi))

    for x in (estimate, estimate + 2.5 * se, 0.7 * prior_sd):
        want = stats.norm(estimate, se).pdf(x) if df is None else stats.t(df, estimate, se).pdf(x)
        assert math.isclose(lik(x), want, rel_tol=1e-12)
        assert math.isclose(prior(x), stats.norm(0, prior_sd).pdf(x), rel_tol=1e-12)

    def dens(x):
        return prior(x) * lik(x)

    lo = min(estimate - 200 * se, -40 * prior_sd)
    hi = max(estimate + 200 * se, 40 * prior_sd)
    # Break points where either factor changes on its own scale, so quad never has to
    # find a narrow peak inside a wide interval.
    marks = [estimate + k * se for k in (-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50)]
    marks += [k * prior_sd for k in (-10, -5, -2, -1, 0, 1, 2, 5, 10)]
    marks = sorted({m for m in marks if lo < m < hi})

    def integral(a, b, g=dens):
        edges = [a] + [m for m in marks if a < m < b] + [b]
        return sum(integrate.quad(g, u, v, limit=200, epsabs=0, epsrel=1e-11)[0]
                   for u, v in zip(edges, edges[1:]))

    mass = integral(lo, hi)
    # Every CDF value is taken from the estimate's, so each call spans a short range.
    at_estimate = integral(lo, estimate) / mass

    def cdf(x):
        if x >= estimate:
            return at_estimate + integral(estimate, x) / mass
        return at_estimate - integral(x, estimate) / mass

    mean = integral(lo, hi, lambda x: x * dens(x)) / mass
    sd = math.sqrt(integral(lo, hi, lambda x: (x - mean) ** 2 * dens(x)) / mass)

    def quantile(p):
        return optimize.brentq(lambda x: cdf(x) - p, mean - 50 * sd, mean + 50 * sd, xtol=1e-13)

    tail = (1 - level) / 2
    return {
        "median": quantile(0.5), "low": quantile(tail), "high": quantile(1 - tail),
        "prob_fall_threshold": cdf(-fall), "prob_any_fall": cdf(0.0),
        "prob_rise_threshold": 1 - cdf(rise), "sd": sd,
    }


def test_posterior_matches_scipy_quadrature():
    payload = [{"estimate": e, "se": s, "df": d, "prior_sd": p, "level": lv,
                "fall_margin": f, "rise_margin": r} for (e, s, d, p, lv, f, r) in CASES]
    ours = posterior({"cases": payload})
    assert len(ours) == len(CASES)
    worst_p = worst_q = 0.0
    for case, got in zip(CASES, ours):
        ref = reference(*case)
        for key in ("prob_fall_threshold", "prob_any_fall", "prob_rise_threshold"):
            err = abs(got[key] - ref[key])
            worst_p = max(worst_p, err)
            assert err < PROB_TOL, f"{case}: {key} ours {got[key]} scipy {ref[key]}"
        for key in ("median", "low", "high"):
            err = abs(got[key] - ref[key]) / ref["sd"]
            worst_q = max(worst_q, err)
            assert err < QUANTILE_TOL, f"{case}: {key} ours {got[key]} scipy {ref[key]}"
    print(f"posterior vs scipy: max prob error {worst_p:.1e}, max quantile error {worst_q:.1e} SD")


def test_reference_agrees_with_the_conjugate_normal_case():
    """The reference itself: with a normal likelihood the posterior is normal."""
    est, se, tau = -0.4, 0.2, LN_RR_SD
    ref = reference(est, se, None, tau, 0.95, 0.3, 0.3)
    var = 1 / (1 / se**2 + 1 / tau**2)
    exact = stats.norm(var * est / se**2, math.sqrt(var))
    assert abs(ref["median"] - exact.median()) < 1e-9
    assert abs(ref["low"] - exact.ppf(0.025)) < 1e-9
    assert abs(ref["prob_any_fall"] - exact.cdf(0.0)) < 1e-9
    assert np.isclose(ref["sd"], math.sqrt(var), rtol=1e-9)
