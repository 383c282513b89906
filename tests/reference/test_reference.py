"""Reference checks: tonus-stats estimates and standard errors against statsmodels.

Run from the repository root:  python -m pytest tests/reference -q
(set TONUS_FIT_JSON to a built fit_json binary to skip the cargo build).
Data sets are generated here with seeded numpy; nothing is hard-coded.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats import sandwich_covariance as sw

from tonus_fit import fit

RTOL = 1e-6


def rel_err(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def assert_close(name, ours, ref):
    err = rel_err(ours, ref)
    print(f"{name}: max relative error {err:.2e}")
    assert err < RTOL, f"{name}: ours {ours} vs statsmodels {ref} (rel err {err:.2e})"


def ar1(rng, n, phi, sigma):
    z = np.empty(n)
    z[0] = rng.normal(0, sigma / np.sqrt(1 - phi**2))
    for t in range(1, n):
        z[t] = phi * z[t - 1] + rng.normal(0, sigma)
    return z


def blocks_arms(rng, n_blocks, n_arms, period):
    arms = []
    for _ in range(n_blocks):
        for a in rng.permutation(n_arms):
            arms += [int(a)] * period
    return np.array(arms)


def design(arms, n_arms, trend):
    n = len(arms)
    cols = [np.ones(n)] + [(arms == a).astype(float) for a in range(1, n_arms)]
    if trend:
        t = np.arange(n, dtype=float)
        cols.append(t / max(n - 1, 1) - 0.5)
    return np.column_stack(cols)


def nb_counts(rng, X, beta, alpha, phi, sigma):
    mu = np.exp(X @ beta + ar1(rng, X.shape[0], phi, sigma))
    lam = rng.gamma(1 / alpha, mu * alpha)
    return rng.poisson(lam).astype(float)


COUNT_CASES = [
    # (seed, n_blocks, n_arms, period, trend, alpha, phi, maxlags)
    (1, 6, 2, 14, False, 0.3, 0.5, 4),
    (2, 4, 3, 20, True, 0.6, 0.3, 6),
    (3, 20, 2, 10, False, 0.2, 0.0, 0),
    (4, 50, 2, 30, True, 0.4, 0.7, 12),
]


@pytest.mark.parametrize("case", COUNT_CASES, ids=lambda c: f"seed{c[0]}")
@pytest.mark.parametrize("use_correction", [False, True])
def test_negative_binomial_matches_statsmodels(case, use_correction):
    seed, nb, na, period, trend, alpha, phi, maxlags = case
    rng = np.random.default_rng(seed)
    arms = blocks_arms(rng, nb, na, period)
    X = design(arms, na, trend)
    beta = np.r_[1.5, rng.normal(-0.3, 0.2, X.shape[1] - 1)]
    y = nb_counts(rng, X, beta, alpha, phi, 0.25)

    ours = fit({"model": "negative_binomial", "y": y.tolist(), "x": X.tolist(),
                "maxlags": maxlags, "use_correction": use_correction})

    model = sm.NegativeBinomial(y, X, loglike_method="nb2")
    ref = model.fit(method="newton", maxiter=200, tol=1e-12, disp=0)
    hac = model.fit(method="newton", maxiter=200, tol=1e-12, disp=0, cov_type="HAC",
                    cov_kwds={"maxlags": maxlags, "use_correction": use_correction})
    assert_close("NB params", ours["params"], ref.params)
    assert_close("NB alpha", [ours["alpha"]], [ref.params[-1]])
    assert_close("NB loglik", [ours["loglik"]], [ref.llf])
    assert_close("NB bse nonrobust", ours["bse_nonrobust"], ref.bse)
    assert_close("NB bse HAC", ours["bse_hac"], hac.bse)


@pytest.mark.parametrize("case", COUNT_CASES[:3], ids=lambda c: f"seed{c[0]}")
def test_arm_labels_give_the_same_design(case):
    seed, nb, na, period, trend, alpha, phi, maxlags = case
    rng = np.random.default_rng(seed + 100)
    arms = blocks_arms(rng, nb, na, period)
    X = design(arms, na, trend)
    y = nb_counts(rng, X, np.r_[1.0, np.zeros(X.shape[1] - 1)], alpha, phi, 0.25)
    by_x = fit({"model": "negative_binomial", "y": y.tolist(), "x": X.tolist(),
                "maxlags": maxlags})
    by_arms = fit({"model": "negative_binomial", "y": y.tolist(), "arms": arms.tolist(),
                   "trend": trend, "maxlags": maxlags})
    assert_close("arms vs x", by_arms["params"], by_x["params"])


@pytest.mark.parametrize("case", COUNT_CASES, ids=lambda c: f"seed{c[0]}")
def test_quasi_poisson_matches_statsmodels(case):
    seed, nb, na, period, trend, alpha, phi, maxlags = case
    rng = np.random.default_rng(seed + 10)
    arms = blocks_arms(rng, nb, na, period)
    X = design(arms, na, trend)
    y = nb_counts(rng, X, np.r_[1.2, rng.normal(-0.3, 0.2, X.shape[1] - 1)], alpha, phi, 0.25)

    ours = fit({"model": "quasi_poisson", "y": y.tolist(), "x": X.tolist(), "maxlags": maxlags})
    glm = sm.GLM(y, X, family=sm.families.Poisson())
    ref = glm.fit(scale="X2", tol=1e-13, maxiter=200)
    hac = glm.fit(cov_type="HAC", cov_kwds={"maxlags": maxlags}, tol=1e-13, maxiter=200)
    assert_close("QP params", ours["params"], ref.params)
    assert_close("QP scale", [ours["scale"]], [ref.scale])
    assert_close("QP loglik (Poisson)", [ours["loglik"]], [hac.llf])
    assert_close("QP bse nonrobust", ours["bse_nonrobust"], ref.bse)
    assert_close("QP bse HAC", ours["bse_hac"], hac.bse)


@pytest.mark.parametrize("seed,phi,maxlags", [(5, 0.0, 3), (6, 0.6, 5), (7, 0.9, 10)])
@pytest.mark.parametrize("use_correction", [False, True])
def test_ols_matches_statsmodels(seed, phi, maxlags, use_correction):
    rng = np.random.default_rng(seed)
    arms = blocks_arms(rng, 5, 2, 12)
    X = design(arms, 2, True)
    y = 5 - 0.8 * X[:, 1] + ar1(rng, len(arms), phi, 1.0)
    ours = fit({"model": "ols", "y": y.tolist(), "x": X.tolist(), "maxlags": maxlags,
                "use_correction": use_correction})
    ref = sm.OLS(y, X).fit()
    hac = sm.OLS(y, X).fit(cov_type="HAC",
                           cov_kwds={"maxlags": maxlags, "use_correction": use_correction})
    assert_close("OLS params", ours["params"], ref.params)
    assert_close("OLS loglik", [ours["loglik"]], [ref.llf])
    assert_close("OLS bse nonrobust", ours["bse_nonrobust"], ref.bse)
    assert_close("OLS bse HAC", ours["bse_hac"], hac.bse)


def test_hac_with_gaps_equals_zero_padded_statsmodels_hac():
    """Days missing from the series (washouts, unconfirmed days) contribute nothing, and the
    lag counts days: the same as statsmodels' HAC on a series padded with zero scores."""
    rng = np.random.default_rng(11)
    arms = blocks_arms(rng, 6, 2, 14)
    days = np.arange(len(arms))
    keep = (days % 14 >= 3) & (rng.random(len(arms)) > 0.15)
    X = design(arms, 2, False)
    y = nb_counts(rng, X, np.r_[1.5, -0.3], 0.3, 0.5, 0.3)
    Xk, yk, tk = X[keep], y[keep], days[keep]
    maxlags = 5
    ours = fit({"model": "negative_binomial", "y": yk.tolist(), "x": Xk.tolist(),
                "times": tk.tolist(), "maxlags": maxlags})

    model = sm.NegativeBinomial(yk, Xk)
    res = model.fit(method="newton", maxiter=200, tol=1e-12, disp=0)
    scores = model.score_obs(res.params)
    padded = np.zeros((len(days), scores.shape[1]))
    padded[tk] = scores
    meat = sw.S_hac_simple(padded, nlags=maxlags)
    bread = np.linalg.inv(model.hessian(res.params))
    cov = bread @ meat @ bread.T
    assert_close("gap-aware HAC bse", ours["bse_hac"], np.sqrt(np.diag(cov)))


@pytest.mark.parametrize("use_t,fixed_b,level", [(True, True, 0.95), (False, False, 0.9),
                                                 (True, False, 0.99)])
def test_intervals_and_p_values_match_scipy(use_t, fixed_b, level):
    """The inference layer (t/normal quantiles from statrs, fixed-b widening) against scipy."""
    from scipy import stats

    rng = np.random.default_rng(21)
    arms = blocks_arms(rng, 4, 2, 10)
    X = design(arms, 2, False)
    y = nb_counts(rng, X, np.r_[1.6, -0.4], 0.3, 0.5, 0.25)
    maxlags = 7
    ours = fit({"model": "negative_binomial", "y": y.tolist(), "x": X.tolist(),
                "maxlags": maxlags, "use_correction": True,
                "interval": {"level": level, "use_t": use_t, "fixed_b": fixed_b}})
    iv = ours["interval"]
    n = len(y)
    k = X.shape[1] + 1
    b = (maxlags + 1) / n
    factor = 1 + (2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3) / 1.96 if fixed_b else 1.0
    se = np.array(ours["bse_hac"]) * factor
    dist = stats.t(n - k) if use_t else stats.norm()
    crit = dist.ppf(0.5 + level / 2)
    params = np.array(ours["params"])
    assert_close("critical value", [iv["critical"]], [crit])
    assert_close("interval low", iv["ci_low"], params - crit * se)
    assert_close("interval high", iv["ci_high"], params + crit * se)
    assert_close("p-values", iv["p_value"], 2 * dist.sf(np.abs(params / se)))
