"""Times one count analysis of 10 years (3,650 days) of daily data: NB2 regression with
two arms in randomised 14-day periods, plus Newey–West HAC standard errors, in tonus-stats
(release `fit_json` example) and in statsmodels, and prints the ratio.

Run from the repository root:
    python tests/reference/bench_vs_statsmodels.py
(set TONUS_FIT_JSON to a release fit_json binary, or let the script build it).
"""

import sys
import time

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, __import__("os").path.dirname(__file__))
from tonus_fit import fit  # noqa: E402

N_DAYS = 3650
REPEATS = 20


def data(seed=42):
    rng = np.random.default_rng(seed)
    period = 14
    arms = np.concatenate([np.repeat(rng.permutation(2), period)
                           for _ in range(N_DAYS // (2 * period) + 1)])[:N_DAYS]
    X = np.column_stack([np.ones(N_DAYS), arms.astype(float)])
    z = np.empty(N_DAYS)
    z[0] = 0.0
    for t in range(1, N_DAYS):
        z[t] = 0.5 * z[t - 1] + rng.normal(0, 0.25)
    mu = np.exp(1.8 - 0.3 * arms + z)
    y = rng.poisson(rng.gamma(1 / 0.3, mu * 0.3)).astype(float)
    return y, X, arms


def main():
    y, X, arms = data()
    maxlags = int(np.floor(4 * (N_DAYS / 100) ** (2 / 9)))
    payload = {"model": "negative_binomial", "y": y.tolist(), "arms": arms.tolist(),
               "maxlags": maxlags, "repeat": REPEATS}
    fit(dict(payload, repeat=1))  # warm up (and build, if needed)
    process_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        one = fit(dict(payload, repeat=1))
        process_times.append(time.perf_counter() - t0)
    process_s = float(np.median(process_times))
    # The machine is shared: take the median of several batches, each the mean of REPEATS.
    tonus_s = float(np.median([fit(payload)["seconds_per_run"] for _ in range(5)]))

    def statsmodels_run():
        model = sm.NegativeBinomial(y, X)
        return model.fit(method="newton", maxiter=200, tol=1e-10, disp=0, cov_type="HAC",
                         cov_kwds={"maxlags": maxlags})

    res = statsmodels_run()
    sm_times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        res = statsmodels_run()
        sm_times.append(time.perf_counter() - t0)
    sm_s = float(np.median(sm_times))

    diff = float(np.max(np.abs(np.array(one["params"]) - res.params) / np.abs(res.params)))
    print(f"data: {N_DAYS} days, NB2 + HAC (maxlags {maxlags}), medians over runs")
    print(f"tonus-stats fit+HAC:          {tonus_s * 1e3:8.3f} ms")
    print(f"tonus-stats whole process:    {process_s * 1e3:8.3f} ms (one run incl. start-up, JSON in/out)")
    print(f"statsmodels fit+HAC:          {sm_s * 1e3:8.3f} ms")
    print(f"ratio statsmodels / tonus:    {sm_s / tonus_s:8.1f}x (fit+HAC)")
    print(f"ratio statsmodels / process:  {sm_s / process_s:8.1f}x")
    print(f"max relative difference of estimates: {diff:.1e}")


if __name__ == "__main__":
    main()
