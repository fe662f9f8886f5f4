#!/usr/bin/env python3
"""Reference values for src/stats/ from SciPy / statsmodels, written to test/fixtures/stats/*.json.

Run through scripts/stats-fixtures/make-fixtures.sh (virtualenv under .venv/stats, pinned
requirements.txt). The TypeScript tests only read the JSON; they never need Python.

Samples are drawn from seeded numpy generators and stored in the fixture as integers plus a
`scale` (value = int / scale). Python computes on exactly those values (the same IEEE division
happens on both sides), so inputs are bit-identical in both languages and the files stay small.
"""
import json
import math
import os
import sys
import warnings

import mpmath
import numpy as np
import scipy
import scipy.special
import scipy.stats as st
import statsmodels
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "test", "fixtures", "stats")

META = {
    "generated_by": "scripts/stats-fixtures/make_fixtures.py",
    "python": sys.version.split()[0],
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "statsmodels": statsmodels.__version__,
    "mpmath": mpmath.__version__,
}


def ints(x, scale):
    """Rounds to integers (the stored form) and returns (int list, float array = ints/scale)."""
    iv = np.rint(np.asarray(x, dtype=float) * scale).astype(np.int64)
    return [int(v) for v in iv], iv.astype(np.float64) / scale


def f(x):
    """JSON-safe float (NaN / inf as strings)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        json.dump({"meta": META, **payload}, fh, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path) / 1024:.0f} KiB)")


# ---------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov
# ---------------------------------------------------------------------------------------------

def ks_case(name, a, b, scale, method="auto"):
    a_int, a_val = ints(a, scale)
    b_int, b_val = ints(b, scale)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = st.ks_2samp(a_val, b_val, alternative="two-sided", method=method)
    fell_back = any("Switching to" in str(w.message) for w in caught)
    if method == "asymp":
        used = "asymp"
    elif method == "exact":
        used = "asymp" if fell_back else "exact"
    else:
        used = "exact" if max(len(a_val), len(b_val)) <= 10000 and not fell_back else "asymp"
    return {
        "name": name, "scale": scale, "a": a_int, "b": b_int, "method": method,
        "statistic": f(res.statistic), "pvalue": f(res.pvalue), "method_used": used,
    }


def make_ks():
    rng = np.random.default_rng(20240611)
    N = rng.standard_normal
    cases = []
    # small samples (exact path), equal and unequal sizes
    cases.append(ks_case("n5_vs_5", N(5), N(5) + 0.5, 1000))
    cases.append(ks_case("n8_vs_7", N(8), N(7), 1000))
    cases.append(ks_case("n3_vs_20", N(3), N(20) + 1.0, 1000))
    cases.append(ks_case("n1_vs_6", N(1), N(6), 1000))
    cases.append(ks_case("n30_vs_45", N(30), N(45) + 0.3, 1000))
    cases.append(ks_case("n100_vs_37", N(100), N(37) * 1.5, 1000))
    cases.append(ks_case("n250_vs_400", N(250), N(400) + 0.2, 1000))
    cases.append(ks_case("n999_vs_1000", N(999), N(1000), 1000))
    cases.append(ks_case("n1000_vs_1500_shift", N(1000), N(1500) + 0.15, 1000))
    cases.append(ks_case("n64_vs_96_gcd32", N(64), N(96) + 0.6, 1000))
    # ties: values rounded to one decimal / small integers
    cases.append(ks_case("ties_n200_vs_300", N(200), N(300) + 0.1, 10))
    cases.append(ks_case("ties_int_n500_vs_500", rng.poisson(3, 500), rng.poisson(3.3, 500), 1))
    cases.append(ks_case("ties_int_n40_vs_55", rng.integers(0, 4, 40), rng.integers(0, 4, 55), 1))
    # identical samples
    same = N(50)
    cases.append(ks_case("identical_n50", same, same, 1000))
    cases.append(ks_case("constant_equal", np.ones(20), np.ones(30), 1))
    # shifted samples with tiny p-values (exact path)
    cases.append(ks_case("shift_n200_tiny_p", N(200), N(200) + 1.5, 1000))
    cases.append(ks_case("shift_n150_vs_170_tiny_p", N(150), N(170) + 1.3, 1000))
    cases.append(ks_case("shift_n60_vs_90_p1e-30ish", N(60), N(90) + 3.0, 1000))
    cases.append(ks_case("separated_n1000", N(1000), N(1000) + 100, 100))
    cases.append(ks_case("separated_n300_vs_200", N(300), N(200) + 100, 100))
    # large exact
    cases.append(ks_case("n1000_null", N(1000), N(1000), 1000))
    cases.append(ks_case("n1000_shift", N(1000), N(1000) + 0.1, 1000))
    cases.append(ks_case("n5000_null", N(5000), N(5000), 1000))
    cases.append(ks_case("n5000_shift_p1e-30", N(5000), N(5000) + 0.3, 1000))
    cases.append(ks_case("n10000_vs_9000", N(10000), N(9000) + 0.03, 1000))
    # above MAX_AUTO_N: asymptotic
    cases.append(ks_case("n12000_vs_11000_asymp", N(12000), N(11000) + 0.03, 1000))
    # explicit methods
    cases.append(ks_case("asymp_small_n20_vs_30", N(20), N(30) + 0.5, 1000, "asymp"))
    cases.append(ks_case("asymp_n50_vs_60_shift", N(50), N(60) + 1.5, 1000, "asymp"))
    cases.append(ks_case("asymp_n5_vs_7", N(5), N(7) + 3, 1000, "asymp"))
    cases.append(ks_case("asymp_n300_vs_400", N(300), N(400) + 0.15, 1000, "asymp"))
    cases.append(ks_case("asymp_n300_vs_400_tiny", N(300), N(400) + 1.2, 1000, "asymp"))
    cases.append(ks_case("asymp_n1000_null", N(1000), N(1000), 1000, "asymp"))
    cases.append(ks_case("exact_n12000_vs_6000", N(12000), N(6000) + 0.04, 100, "exact"))
    cases.append(ks_case("exact_n200_vs_200_h1", np.arange(200), np.arange(200) + 0.5, 10, "exact"))
    write("ks.json", {"cases": cases})


def make_kstwo():
    """Direct checks of kstwo.sf over every branch of Simard–L'Ecuyer, plus kolmogorov/smirnov."""
    ns = [1, 2, 3, 5, 10, 20, 50, 100, 140, 141, 200, 500, 1000, 5000, 10000, 50000,
          100000, 100001, 300000, 2000000]
    cs = [0.05, 0.2, 0.5, 0.754, 0.76, 1.0, 1.5, 2.19, 2.21, 3.0, 3.99, 4.01, 8.0, 17.9, 18.1,
          40.0, 100.0, 200.0, 369.0, 371.0]
    kstwo = []
    for n in ns:
        ds = set()
        for c in cs:
            d = math.sqrt(c / n)
            if 0 < d < 1:
                ds.add(d)
        for t in (0.4, 0.6, 0.9, 1.0, 1.3):  # n*d around the Ruben–Gambino lower cases
            ds.add(t / n)
        for d in (0.3, 0.5, 0.55, 0.75, 0.95, 1 - 0.5 / n, 1 - 1.5 / n):
            if 0 < d < 1:
                ds.add(d)
        for d in sorted(ds):
            kstwo.append({"n": n, "d": d, "sf": f(st.kstwo.sf(d, n))})
    kolmogorov = [{"x": x, "sf": f(scipy.special.kolmogorov(x))}
                  for x in (0.01, 0.04, 0.05, 0.1, 0.3, 0.5, 0.8, 0.82, 0.83, 1.0, 1.36, 2.0, 3.0,
                            5.0, 10.0, 20.0, 27.0)]
    smirnov = []
    for n in (1, 2, 5, 10, 50, 200, 1000, 10000, 100000, 2000000):
        for d in (0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 0.999):
            smirnov.append({"n": n, "d": d, "sf": f(scipy.special.smirnov(n, d))})
    write("kstwo.json", {"kstwo": kstwo, "kolmogorov": kolmogorov, "smirnov": smirnov})


# ---------------------------------------------------------------------------------------------
# Chi-square
# ---------------------------------------------------------------------------------------------

def chi2_large_case(x, dof):
    """scipy's values plus 40-digit mpmath values: at 10^6 dof scipy's own asymptotic expansion is
    off by up to ~1e-8 relative deep in the lower tail, so the truth is recorded beside it."""
    mpmath.mp.dps = 80
    a, h = mpmath.mpf(dof) / 2, mpmath.mpf(x) / 2
    upper = mpmath.gammainc(a, h, mpmath.inf, regularized=True)
    try:
        lower = mpmath.gammainc(a, 0, h, regularized=True)
    except mpmath.libmp.NoConvergence:
        lower = 1 - upper  # 80 digits: exact to far below any double when lower > 1e-60
    return {"x": x, "dof": dof, "sf": f(st.chi2.sf(x, dof)), "cdf": f(st.chi2.cdf(x, dof)),
            "gammainc": f(scipy.special.gammainc(dof / 2, x / 2)),
            "gammaincc": f(scipy.special.gammaincc(dof / 2, x / 2)),
            "mp_gammainc": f(lower), "mp_gammaincc": f(upper)}


def make_chisquare():
    gof = []
    for obs, exp in [
        ([16, 18, 16, 14, 12, 12], None),
        ([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]),
        ([10, 20, 30], [20, 20, 20]),
        ([1000, 1500, 800, 2200], [1375, 1375, 1375, 1375]),
        ([5, 0, 7], [4, 4, 4]),
        ([100000, 110000], [105000, 105000]),
        ([50, 50], [50, 50]),
        ([30000, 20000, 10000], [20000, 20000, 20000]),
    ]:
        res = st.chisquare(obs, exp)
        gof.append({"observed": obs, "expected": exp, "statistic": f(res.statistic),
                    "pvalue": f(res.pvalue), "dof": len(obs) - 1})
    contingency = []
    tables = [
        [[12, 5], [7, 9]],
        [[120, 380], [150, 350]],
        [[3, 4], [4, 3]],            # |O - E| < 0.5 cells: correction capped
        [[10, 10], [10, 10]],
        [[20, 15, 30], [25, 30, 10]],
        [[5, 8, 12, 4], [9, 3, 7, 11], [6, 6, 6, 6]],
        [[5000, 2000], [3000, 4000]],  # tiny p
        [[100000, 1000], [90000, 3000]],
        [[10, 20, 30]],              # dof 0
        [[4], [9]],                  # dof 0
        [[0.5, 3.5], [2.25, 7.0]],   # non-integer counts
    ]
    for t in tables:
        for corr in (True, False):
            res = st.chi2_contingency(t, correction=corr)
            contingency.append({"table": t, "correction": corr, "statistic": f(res.statistic),
                                "pvalue": f(res.pvalue), "dof": int(res.dof),
                                "expected": np.asarray(res.expected_freq).tolist()})
    drift = []
    drift_cases = [
        ({"a": 50, "b": 30, "c": 20}, {"a": 45, "b": 35, "c": 20}),
        ({"a": 500, "b": 300, "c": 200}, {"a": 300, "b": 300, "c": 300, "d": 100}),  # unseen "d"
        ({"x": 1000, "y": 10}, {"x": 950, "y": 20, "z": 5, "w": 1}),
        ({"x": 100, "y": 0}, {"x": 80, "y": 20}),                                     # zero in ref
        ({"a": 40, "b": 60}, {"a": 55, "b": 45}),                                     # 2x2: Yates
        ({"a": 12.5, "b": 7.5, "c": 0}, {"a": 3.0, "b": 9.0, "c": 0}),               # all-zero column dropped
        ({"a": 10}, {"a": 30}),                                                       # single category
        ({"a": 9000, "b": 1000}, {"a": 6000, "b": 4000, "c": 500}),                   # tiny p
    ]
    for ref, cur in drift_cases:
        cats = sorted(set(ref) | set(cur))
        cats = [c for c in cats if ref.get(c, 0) + cur.get(c, 0) > 0]
        table = [[ref.get(c, 0) for c in cats], [cur.get(c, 0) for c in cats]]
        res = st.chi2_contingency(table, correction=True)
        unseen = sorted(c for c in cur if cur[c] > 0 and ref.get(c, 0) == 0)
        drift.append({"reference": ref, "current": cur, "statistic": f(res.statistic),
                      "pvalue": f(res.pvalue), "dof": int(res.dof), "unseen_categories": unseen})
    # Tails at large statistics and degrees of freedom (up to 10^6): chi2.sf and the regularised
    # incomplete gamma functions behind it, around the mode and far into both tails.
    large = []
    for dof in [1, 2, 5, 30, 101, 1000, 2001, 10000, 123457, 1000000]:
        for z in [-8, -5, -3, -1, -0.3, 0, 0.01, 0.3, 1, 2, 3, 5, 8, 15, 30]:
            x = dof + z * math.sqrt(2 * dof)
            if x <= 0:
                continue
            large.append(chi2_large_case(x, dof))
    for x, dof in [(2000.33, 2001), (1999.5, 2000), (2000.5, 2000), (2500, 2000), (5000, 3000),
                   (1e5, 1e5), (3e3, 10), (700, 1), (1400, 1), (0.001, 1000), (50, 1e4)]:
        large.append(chi2_large_case(x, dof))
    write("chisquare.json", {"goodness_of_fit": gof, "contingency": contingency, "categorical_drift": drift,
                             "chi2_large": large})


# ---------------------------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------------------------

def psi_reference(ref, cur, bins=10, eps=1e-4):
    """The PSI definition documented in src/stats/distances.ts: reference-quantile bins plus two
    open-ended bins for values below the reference minimum and above its maximum."""
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    lo, hi = ref.min(), ref.max()

    def shares(x):
        inner = x[(x >= lo) & (x <= hi)]
        counts = np.bincount(np.searchsorted(edges, inner, side="right"), minlength=len(edges) + 1)
        return np.concatenate([[np.sum(x < lo)], counts, [np.sum(x > hi)]]) / len(x)

    r = shares(ref)
    c = shares(cur)
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r))), edges.tolist()


def categorical_psi_reference(ref, cur, eps=1e-4):
    """PSI over the reference's categories plus one bin for every category it never saw."""
    rt, ct = sum(ref.values()), sum(cur.values())
    cats = sorted(ref)
    r = [ref[k] / rt for k in cats] + [0.0]
    c = [cur.get(k, 0) / ct for k in cats] + [sum(v for k, v in cur.items() if k not in ref) / ct]
    r = np.where(np.asarray(r) == 0, eps, r)
    c = np.where(np.asarray(c) == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def make_distances():
    rng = np.random.default_rng(7)
    N = rng.standard_normal
    wass = []
    for name, a, b, scale in [
        ("small", [0, 1, 3], [5, 6, 8], 1),
        ("weighted_like", [3.4, 3.9, 7.5, 7.8], [4.5, 1.4], 10),
        ("n100_vs_80", N(100), N(80) + 0.5, 1000),
        ("n2000_vs_3000_scale", N(2000), 1.5 * N(3000), 1000),
        ("ties", rng.integers(0, 5, 300), rng.integers(0, 6, 200), 1),
        ("identical", [1.5, 2.5, 2.5, 9], [1.5, 2.5, 2.5, 9], 10),
        ("lognormal", rng.lognormal(0, 1, 500), rng.lognormal(0.2, 1, 700), 1000),
    ]:
        ai, av = ints(a, scale)
        bi, bv = ints(b, scale)
        w = st.wasserstein_distance(av, bv)
        wass.append({"name": name, "scale": scale, "a": ai, "b": bi, "wasserstein": f(w),
                     "normalised": f(w / np.std(av))})
    js = []
    for p, q in [
        ([1.0, 0.0], [0.5, 0.5]),
        ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
        ([0.2, 0.3, 0.5], [0.25, 0.25, 0.5]),
        ([10, 20, 30, 40], [40, 30, 20, 10]),            # unnormalised counts
        ([0.5, 0.5, 0.0, 0.0], [0.0, 0.1, 0.4, 0.5]),
        ([0.3, 0.3, 0.4], [0.3, 0.3, 0.4]),
        ([1e-9, 0.5, 0.5], [0.4, 0.3, 0.3]),
    ]:
        js.append({"p": p, "q": q, "distance": f(jensenshannon(p, q, base=2))})
    js_records = []
    for p, q in [
        ({"a": 5, "b": 3}, {"a": 4, "b": 4, "c": 2}),
        ({"x": 0.7, "y": 0.3}, {"y": 0.6, "z": 0.4}),
    ]:
        keys = sorted(set(p) | set(q))
        js_records.append({"p": p, "q": q, "distance": f(jensenshannon(
            [p.get(k, 0) for k in keys], [q.get(k, 0) for k in keys], base=2))})
    psi = []
    for name, a, b, scale, bins in [
        ("null_n1000", N(1000), N(1000), 1000, 10),
        ("shift_n1000_vs_800", N(1000), N(800) + 0.5, 1000, 10),
        ("scale_n500", N(500), 2 * N(500), 1000, 5),
        ("ties_ints", rng.integers(0, 4, 400), rng.integers(0, 6, 300), 1, 10),
        ("outside_range", N(300), N(300) + 10, 1000, 10),   # empty bins -> epsilon
        ("bins20", rng.exponential(1, 2000), rng.exponential(1.3, 1500), 1000, 20),
    ]:
        ai, av = ints(a, scale)
        bi, bv = ints(b, scale)
        value, edges = psi_reference(av, bv, bins)
        psi.append({"name": name, "scale": scale, "a": ai, "b": bi, "bins": bins,
                    "psi": value, "edges": edges})
    # 20% of the current mass on a value the reference never reached (above its maximum)
    ai, av = ints(N(1000), 1000)
    bi, bv = ints(np.concatenate([N(800), np.full(200, 9.0)]), 1000)
    value, edges = psi_reference(av, bv, 10)
    psi.append({"name": "unseen_high_value", "scale": 1000, "a": ai, "b": bi, "bins": 10, "psi": value, "edges": edges})
    psi_categorical = []
    for ref, cur in [
        ({"a": 50, "b": 30, "c": 20}, {"a": 45, "b": 35, "c": 20}),
        ({"a": 500, "b": 300, "c": 200}, {"a": 300, "b": 300, "c": 300, "d": 100}),
        ({"x": 1000, "y": 10}, {"x": 950, "y": 20, "z": 5, "w": 1}),
        ({"a": 40, "b": 60}, {"a": 100}),
    ]:
        psi_categorical.append({"reference": ref, "current": cur, "psi": categorical_psi_reference(ref, cur)})
    write("distances.json", {"wasserstein": wass, "jensenshannon": js,
                             "jensenshannon_records": js_records, "psi": psi,
                             "psi_categorical": psi_categorical})


# ---------------------------------------------------------------------------------------------
# A/B statistics
# ---------------------------------------------------------------------------------------------

def make_ab():
    props = []
    for sA, nA, sB, nB in [
        (120, 1000, 150, 1000),
        (45, 500, 60, 520),
        (1000, 10000, 1500, 10000),      # tiny p
        (5, 40, 12, 35),
        (300, 3000, 300, 3000),          # no difference
        (9990, 10000, 9950, 10000),
        (20000, 200000, 24000, 210000),  # very tiny p
        (0, 100, 3, 100),
    ]:
        z, p = proportions_ztest([sA, sB], [nA, nB])
        lo, hi = confint_proportions_2indep(sB, nB, sA, nA, method="wald", compare="diff")
        row = {"successA": sA, "nA": nA, "successB": sB, "nB": nB,
               "z_statsmodels": f(z), "pvalue": f(p), "diff": f(sB / nB - sA / nA),
               "ci95": [f(lo), f(hi)]}
        for corr in (True, False):
            res = st.chi2_contingency([[sA, nA - sA], [sB, nB - sB]], correction=corr)
            row["chi2_correction" if corr else "chi2_nocorrection"] = {
                "statistic": f(res.statistic), "pvalue": f(res.pvalue), "dof": int(res.dof)}
        props.append(row)

    srm = []
    for obs, w in [
        ([5000, 5100], [0.5, 0.5]),
        ([5000, 5300], [1, 1]),
        ([10000, 10500, 9800], [1, 1, 1]),
        ([20000, 10300], [2, 1]),
        ([8000, 2100], [0.8, 0.2]),
        ([100000, 98000], [50, 50]),
    ]:
        w_ = np.asarray(w, dtype=float)
        exp = w_ / w_.sum() * np.sum(obs)
        res = st.chisquare(obs, exp)
        srm.append({"observed": obs, "weights": w, "statistic": f(res.statistic),
                    "pvalue": f(res.pvalue), "mismatch": bool(res.pvalue < 0.001)})

    sizes = []
    solver = NormalIndPower()
    for base, mde, alpha, power in [
        (0.1, 0.01, 0.05, 0.8),
        (0.1, 0.02, 0.05, 0.8),
        (0.05, 0.005, 0.05, 0.9),
        (0.3, 0.05, 0.01, 0.8),
        (0.5, 0.1, 0.05, 0.8),
        (0.02, 0.002, 0.05, 0.8),
        (0.2, -0.03, 0.05, 0.8),
        (0.6, 0.2, 0.1, 0.95),
    ]:
        es = proportion_effectsize(base + mde, base)
        n = solver.solve_power(effect_size=abs(es), nobs1=None, alpha=alpha, power=power,
                               ratio=1.0, alternative="two-sided")
        n = float(np.asarray(n).item())
        sizes.append({"baseline": base, "mde": mde, "alpha": alpha, "power": power,
                      "effect_size": f(es), "nobs1": n, "required": int(math.ceil(n))})

    rng = np.random.default_rng(99)
    N = rng.standard_normal
    welch = []
    for name, a, b, scale in [
        ("small", N(8), 2 * N(11) + 0.5, 1000),
        ("unequal_var", N(30), 4 * N(20) + 1, 1000),
        ("n2_vs_3", [1.0, 2.0], [2.5, 3.5, 6.0], 10),
        ("large_tiny_p", N(2000), N(2500) + 0.5, 1000),
        ("huge_t", N(5000), N(5000) + 2.0, 1000),
        ("null_n500", N(500), N(500), 1000),
        ("skewed", rng.exponential(1, 300), rng.exponential(1.2, 250), 1000),
    ]:
        ai, av = ints(a, scale)
        bi, bv = ints(b, scale)
        res = st.ttest_ind(av, bv, equal_var=False)
        ci = res.confidence_interval(0.95)
        welch.append({"name": name, "scale": scale, "a": ai, "b": bi, "t": f(res.statistic),
                      "df": f(res.df), "pvalue": f(res.pvalue),
                      "diff": f(np.mean(bv) - np.mean(av)),
                      # scipy's interval is for mean(a) - mean(b); ours is for mean(b) - mean(a)
                      "ci95": [f(-ci.high), f(-ci.low)]})
    # zero variances: scipy 1.17 returns t = +-inf, p = 0 (means differ) or NaN (equal), df = 1
    for name, a, b, scale in [
        ("zero_var_both_differ", [1, 1, 1], [2, 2, 2, 2], 1),
        ("zero_var_both_equal", [3, 3], [3, 3, 3], 1),
        ("zero_var_one", [5, 5, 5, 5], [4, 6, 5, 7], 1),
    ]:
        ai, av = ints(a, scale)
        bi, bv = ints(b, scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = st.ttest_ind(av, bv, equal_var=False)
        welch.append({"name": name, "scale": scale, "a": ai, "b": bi, "t": f(res.statistic),
                      "df": f(res.df), "pvalue": f(res.pvalue), "diff": f(np.mean(bv) - np.mean(av)),
                      "ci95": None})
    welch_stats = []
    for s1, s2 in [
        ((10.0, 4.0, 30), (11.5, 9.0, 25)),
        ((0.12, 0.1056, 1000), (0.15, 0.1275, 1000)),
        ((100.0, 2500.0, 50000), (101.0, 2400.0, 48000)),
        ((5.0, 1.0, 3), (9.0, 16.0, 2)),
    ]:
        (m1, v1, n1), (m2, v2, n2) = s1, s2
        res = st.ttest_ind_from_stats(m1, math.sqrt(v1), n1, m2, math.sqrt(v2), n2, equal_var=False)
        se2 = v1 / n1 + v2 / n2
        df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
        q = st.t.ppf(0.975, df)
        welch_stats.append({"a": {"mean": m1, "variance": v1, "n": n1},
                            "b": {"mean": m2, "variance": v2, "n": n2},
                            "t": f(res.statistic), "pvalue": f(res.pvalue), "df": f(df),
                            "ci95": [f(m2 - m1 - q * math.sqrt(se2)), f(m2 - m1 + q * math.sqrt(se2))]})
    write("ab.json", {"proportions": props, "srm": srm, "sample_size": sizes,
                      "welch": welch, "welch_from_stats": welch_stats})


# ---------------------------------------------------------------------------------------------
# Multiple testing and proportion intervals (monitoring decisions)
# ---------------------------------------------------------------------------------------------

def make_monitoring():
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint
    rng = np.random.default_rng(18)
    adjust = []
    for name, p in [
        ("uniform_50", rng.uniform(size=50)),
        ("mixed", np.concatenate([rng.uniform(0, 1e-4, 10), rng.uniform(size=40)])),
        ("ties", [0.01, 0.01, 0.02, 0.04, 0.04, 0.5, 1.0]),
        ("tiny", [1e-300, 1e-200, 1e-20, 0.03, 0.9]),
        ("single", [0.03]),
    ]:
        p = [float(v) for v in p]
        bh = multipletests(p, alpha=0.05, method="fdr_bh")
        holm = multipletests(p, alpha=0.05, method="holm")
        adjust.append({"name": name, "p": p, "bh": [f(v) for v in bh[1]], "bh_reject": [bool(v) for v in bh[0]],
                       "holm": [f(v) for v in holm[1]], "holm_reject": [bool(v) for v in holm[0]]})
    wilson = []
    for k, n, alpha in [(0, 10, 0.05), (10, 10, 0.05), (45, 50, 0.05), (812, 1000, 0.05), (3, 7, 0.1), (500, 1000, 0.01)]:
        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
        wilson.append({"successes": k, "n": n, "alpha": alpha, "low": f(lo), "high": f(hi)})
    write("monitoring.json", {"p_adjust": adjust, "wilson": wilson})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_ks()
    make_kstwo()
    make_chisquare()
    make_distances()
    make_ab()
    make_monitoring()
