"""Reference check: the pooled random-effects model (tonus-stats `pooled`) against
statsmodels and scipy.

- DerSimonian–Laird: statsmodels.stats.meta_analysis.combine_effects(method_re="chi2")
  gives τ², μ, its conventional SE and its Hartung–Knapp SE (`sd_eff_w_re_hksj`; when
  statsmodels' τ² is negative, tonus truncates it at 0 and must match the fixed-effect row);
  tonus-stats `pool_dl` must match to 1e-9 (relative to the size of each value, + 1e-12).
- REML (the default): statsmodels has no REML in combine_effects, so τ² is found here by
  maximising the restricted log-likelihood with scipy.optimize.minimize_scalar (bounded,
  xatol 1e-12); tolerance 1e-6 on τ² and on μ.
- The Q-profile interval for τ²: roots of the generalised Q statistic found with brentq
  against chi-squared quantiles; tolerance 1e-6.
- The prediction interval (Higgins–Thompson–Spiegelhalter, t with k − 2 df) and the
  shrunken estimates, written out from their textbook formulas; tolerance 1e-6.

Run from the repository root:  python -m pytest tests/reference -q
(set TONUS_POOLED_JSON to a built pooled_json binary to skip the cargo build).
"""

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from tonus_fit import run

LEVEL = 0.95
CASES = [
    [(-0.9, 0.2), (-0.1, 0.25), (0.3, 0.3), (-0.5, 0.15), (-1.2, 0.4)],
    [(-0.36, 0.12), (-0.41, 0.2), (-0.3, 0.18)],
    [(-1.5, 0.1), (0.4, 0.1), (-0.9, 0.1), (0.3, 0.1), (-0.2, 0.3), (0.0, 0.5)],
    [(1.2, 2.0), (-0.5, 1.1), (0.3, 0.9), (-2.0, 1.6)],  # score differences, in points
    [(-0.2, 0.3), (-0.2, 0.3), (-0.25, 0.35), (-0.15, 0.2)],  # no spread beyond chance
]


@pytest.fixture(scope="module")
def answers():
    payload = {"level": LEVEL,
               "cases": [[{"estimate": y, "se": s} for y, s in c] for c in CASES]}
    return run("pooled_json", payload)


def close(got, want, tol):
    assert abs(got - want) <= tol * (1 + abs(want)), (got, want)


def qgen(y, v, tau2):
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return (w * (y - mu) ** 2).sum()


def neg_reml(tau2, y, v):
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return 0.5 * (np.log(v + tau2).sum() + np.log(w.sum()) + (w * (y - mu) ** 2).sum())


@pytest.mark.parametrize("i", range(len(CASES)))
def test_dersimonian_laird_matches_statsmodels(answers, i):
    y = np.array([c[0] for c in CASES[i]])
    v = np.array([c[1] for c in CASES[i]]) ** 2
    res = combine_effects(y, v, method_re="chi2", use_t=True)
    got = answers[i]["dl"]
    if res.tau2 < 0:
        # statsmodels leaves the moment estimate negative; tonus truncates it at 0 (the usual
        # DerSimonian–Laird rule), which makes the random-effects fit the fixed-effect one.
        assert got["tau2"] == 0.0
        mean, sd, sd_hk = res.mean_effect_fe, res.sd_eff_w_fe, res.sd_eff_w_fe_hksj
    else:
        close(got["tau2"], res.tau2, 1e-9)
        mean, sd, sd_hk = res.mean_effect_re, res.sd_eff_w_re, res.sd_eff_w_re_hksj
    close(got["mean"]["estimate"], mean, 1e-9)
    close(got["mean_se_conventional"], sd, 1e-9)
    close(got["mean"]["se"], sd_hk, 1e-9)
    # statsmodels' "wls" interval: HKSJ variance, t with k − 1 df.
    crit = stats.t.ppf(1 - (1 - LEVEL) / 2, len(y) - 1)
    close(got["mean"]["low"], mean - crit * sd_hk, 1e-9)
    close(got["mean"]["high"], mean + crit * sd_hk, 1e-9)
    close(got["q"], res.q, 1e-9)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_reml_and_intervals_match_scipy(answers, i):
    y = np.array([c[0] for c in CASES[i]])
    v = np.array([c[1] for c in CASES[i]]) ** 2
    k = len(y)
    got = answers[i]["reml"]
    assert got["tau_method"] == "reml"
    hi = 10 * (y.var() + v.max())
    opt = optimize.minimize_scalar(neg_reml, bounds=(0, hi), args=(y, v), method="bounded",
                                   options={"xatol": 1e-12})
    tau2 = opt.x if neg_reml(opt.x, y, v) < neg_reml(0.0, y, v) else 0.0
    close(got["tau2"], tau2, 1e-6)
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    se = math.sqrt(1 / w.sum())
    close(got["mean"]["estimate"], mu, 1e-6)
    close(got["mean_se_conventional"], se, 1e-6)

    a = 1 - LEVEL
    pred = stats.t.ppf(1 - a / 2, k - 2) * math.sqrt(tau2 + se ** 2)
    close(got["prediction_low"], mu - pred, 1e-6)
    close(got["prediction_high"], mu + pred, 1e-6)

    def root(target):
        if qgen(y, v, 0.0) <= target:
            return 0.0
        return optimize.brentq(lambda t: qgen(y, v, t) - target, 0.0, 1e6, xtol=1e-14)

    close(got["tau_low"] ** 2, root(stats.chi2.ppf(1 - a / 2, k - 1)), 1e-6)
    close(got["tau_high"] ** 2, root(stats.chi2.ppf(a / 2, k - 1)), 1e-6)

    z = stats.norm.ppf(1 - a / 2)
    for (yi, vi), sh in zip(zip(y, v), got["shrunken"]):
        b = tau2 / (tau2 + vi)
        est = mu + b * (yi - mu)
        var = b * vi + (1 - b) ** 2 * se ** 2
        close(sh["estimate"], est, 1e-6)
        close(sh["se"], math.sqrt(var), 1e-6)
        close(sh["low"], est - z * math.sqrt(var), 1e-6)
