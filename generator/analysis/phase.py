"""What the finite-width phase measurements (phase_measured.csv) say: fitted depth scales and errors by width.

Contract
--------
:func:`xi_c_fits` -- one row per (activation, sigma_w2, sigma_b2, width): the correlation depth scale
``xi_c_fit`` fitted from the measured c^l (below: one rule per side of the critical line, chosen by the
theory's regime at the point), a 95 % interval over seeds (``xi_c_lo``, ``xi_c_hi``: t(0.975, S - 1) times
the jackknife standard error of the S leave-one-seed-out fits; NaN with one seed), ``n_seeds`` (the seeds
used), beside the theory's ``xi_c_theory`` and ``regime`` (generator/engine/phase.py), ``status`` ("fit" or
"inconclusive"), ``reason`` (why not, "" for a fit) and ``away``: the point is away from the critical line
in the sense the measurement can test, the theory's xi_c <= depth / ``MIN_SPANS`` (the depth holds at
least four theoretical xi_c; the issue's 15 % acceptance is stated away from the line).

Ordered side (c* = 1), the decay fit: c_inf = the mean of the seed-mean c^l over the last quarter of the
layers (the measured fixed point: at finite width it differs from c* by O(1/N), which would bend
log|c^l - c*| near the end), and the noise floor = the standard deviation of c^l over those layers. Usable
layers: q has converged (the theory's q^l within ``Q_CONVERGED`` = 1 % of q*: before that the correlation
map changes from layer to layer), c^l is in the linear regime of the map (|c^l - c_inf| <= ``C_LINEAR`` =
0.1) and well above the noise (|c^l - c_inf| > ``NOISE_FACTOR`` = 3 times the floor), taken from the first
usable layer up to the first layer that is not. log|c^l - c_inf| is fitted by least squares as a line in l;
xi_c = -1 / slope. Here |c^l - 1| falls to rounding level, so the fit has many clean layers: on the default
grid the ordered tanh/ReLU fits at width 1000 are within 15 % of theory but one.

Chaotic side (c* < 1), the one-step regression. At finite width c^l does not settle: each pair's c_k^l
wanders about c* by ~ 1/sqrt(N) per layer, and because a layer's fluctuation decays at the rate chi_c
like any other deviation, it accumulates to ~ 0.07 per pair at width 1000 -- as large as the signal
|c^l - c*| after a couple of xi_c, so the decay fit has almost no usable layers. The wandering is itself
the signal: a fresh weight draw per layer makes c_k^l a Markov chain, c_k^(l+1) - c* = chi_c (c_k^l - c*)
+ e^(l+1) with e^(l+1) independent of the past, so chi_c is the slope of c_k^(l+1) on c_k^l over every
usable layer, pair and seed (pooled, one intercept), and xi_c = -1 / ln chi_c. Two details make it honest:
(1) the regression uses c_k^(l-1) as an instrument for c_k^l (slope = cov(c^(l+1), c^(l-1)) / cov(c^l,
c^(l-1))): the sample fluctuation that enters c_k^l is partly not passed on (the next layer responds to the
empirical activations, not to their Gaussian summary), which biases the plain slope towards 0 by 10-30 %;
the fluctuation at layer l is independent of layer l - 1, so the instrument removes that bias.
(2) the pooled sums over pairs split into the pair means c^l and the cross-pair covariances c_lag1, c_lag2
of phase_measured.csv (generator/experiments/phase_run.py), so the file needs no per-pair rows. Usable
triples (l - 1, l, l + 1): q converged at l - 1 and |c^(l-1) - c_inf| <= C_LINEAR (selection on the
instrument, which the fluctuations after it cannot bias); at least MIN_LAYERS. c_inf only centres that
window, so the settled test below does not apply here (at finite width the tail of a chaotic c^l wanders
by design); its job, refusing a rate too slow for the depth, is done by the last rule: the fit is
inconclusive when the slope is not in (0, 1), and when the fitted xi_c exceeds the depth / ``MIN_SPANS``
= 4: near the critical line c* is close to 1, the bounded c_k^l (<= 1) and the O(1/N) shift of the finite-width fixed
point dominate, and a depth of fewer than four xi_c does not pin the rate (the value is kept, marked
inconclusive). Measured on the default grid's chaotic tanh points at width 1000 with 8 seeds: 15 of the 16
points with theory xi_c <= 10 within 15 % of theory (tests/test_phase_measured.py checks three of them).

Both rules: inconclusive (``status = "inconclusive"``, ``reason`` says why) when c has not settled (decay
fit only: the mean of the third quarter of the layers differs from c_inf by more than 3 floors and
``SETTLED`` = 0.005 (5 % of the fitted range): xi_c is too long for the depth, and c_inf would be
biased), with fewer than
``MIN_LAYERS`` = 4 usable layers, when the 95 % interval is undefined or wider than the estimate itself
(``MAX_WIDTH_RATIO`` = 1: the seeds disagree too much to state a number), and when the theory has no finite
xi_c (explodes, critical); else "fit".

:func:`q_error` -- one row per (activation, sigma_w2, sigma_b2, width): ``rel_err`` = the mean over seeds
and layers of |q^l / q_theory^l - 1|, ``c_err`` = the mean of |c^l - c_theory^l|, with q_theory^l the
variance map from q^1 = sigma_w^2 q0 + sigma_b^2 and c_theory^l the correlation map at q^l from
c^1 = (sigma_w^2 q0 c0 + sigma_b^2) / q^1 (the first layer is linear in the inputs), and ``n_seeds``.
q0 and c0 are the measurement's ``[phase]`` values (they are not columns of the file).

:func:`phase_summary` -- per (activation, width) the mean rel_err and c_err over the points whose regime
is not ``explodes``, and per activation ``slope``: the least-squares slope of log(rel_err) against
log(width) (about -1/2 if the error is finite-width noise, -1 for a pure 1/N bias).

:func:`fit_agreement` -- per activation, at the largest width of :func:`xi_c_fits`'s frame: the points,
those fitted and inconclusive, the median of |xi_c_fit / xi_c_theory - 1| over the fitted ones and how many
are within ``XI_TOL`` = 15 % of theory (the issue's acceptance tolerance away from the critical line), also
counted over the points away from the line and per side of it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.student_t import quantile
from generator.engine.phase import correlation_map, phase_point, variance_map

POINT = ["activation", "sigma_w2", "sigma_b2", "width"]
Q_CONVERGED, C_LINEAR, NOISE_FACTOR, MIN_LAYERS, MAX_WIDTH_RATIO, SETTLED = 0.01, 0.1, 3.0, 4, 1.0, 0.005
MIN_SPANS = 4  # a chaotic fit needs the depth to hold at least this many xi_c
XI_TOL = 0.15  # a fitted xi_c "agrees" with theory within this relative deviation


def theory_curves(activation, sigma_w2, sigma_b2, depth, q0=1.0, c0=0.5, points=48):
    """(q^l, c^l) of the mean-field maps for l = 1..depth (module doc), two float arrays."""
    q = np.empty(depth)
    c = np.empty(depth)
    q[0] = sigma_w2 * q0 + sigma_b2
    c[0] = (sigma_w2 * q0 * c0 + sigma_b2) / q[0]
    with np.errstate(all="ignore"):
        for layer in range(1, depth):
            q[layer] = variance_map(activation, sigma_w2, sigma_b2, q[layer - 1], points)
            finite = math.isfinite(q[layer - 1]) and q[layer - 1] > 0
            c[layer] = (
                correlation_map(activation, sigma_w2, sigma_b2, q[layer - 1], c[layer - 1], points)
                if finite
                else math.nan
            )
    return q, c


def _tail(c: np.ndarray) -> tuple[float, float, float]:
    """(c_inf, floor, before): mean and std of c over the last quarter of the layers, mean over the third."""
    quarter = max(2, len(c) // 4)
    tail = c[len(c) - quarter :]
    return float(tail.mean()), float(tail.std()), float(c[len(c) - 2 * quarter : len(c) - quarter].mean())


def fit_xi(layers: np.ndarray, c: np.ndarray, converged: np.ndarray) -> tuple[float, str]:
    """(xi_c, reason) for one seed's c^l (layers ascending); reason is "" when the fit succeeded."""
    if c.size < 2 * MIN_LAYERS or not np.isfinite(c).all():
        return math.nan, "c is not finite at every layer (the signal exploded or vanished)"
    c_inf, floor, before = _tail(c)
    if abs(before - c_inf) > max(NOISE_FACTOR * floor, SETTLED):
        return math.nan, "c has not settled by the last quarter of the layers: xi_c too long for this depth"
    gap = np.abs(c - c_inf)
    ok = converged & (gap <= C_LINEAR) & (gap > NOISE_FACTOR * floor) & (gap > 0)
    if not ok.any():
        return math.nan, "no layer with converged q and c in the linear regime above the noise"
    start = int(np.argmax(ok))
    end = start
    while end < len(c) and ok[end]:
        end += 1
    if end - start < MIN_LAYERS:
        return math.nan, f"{end - start} usable layers (at least {MIN_LAYERS} needed)"
    slope = np.polyfit(layers[start:end].astype(float), np.log(gap[start:end]), 1)[0]
    if slope >= 0:
        return math.nan, "log|c - c_inf| does not decrease with depth"
    return -1.0 / float(slope), ""


def chi_c_pooled(c: np.ndarray, lag1: np.ndarray, lag2: np.ndarray, use: np.ndarray) -> float:
    """The instrumented one-step slope (module doc) over every pair: ``c``, ``lag1``, ``lag2`` are (layers,
    seeds) arrays of pair means and cross-pair covariances (phase_measured.csv's c, c_lag1, c_lag2); ``use``
    (layers,) marks the centre layers l whose triple (l - 1, l, l + 1) enters (never the first or last).

    With z = c_k^(l-1), x = c_k^l, y = c_k^(l+1) over pairs k, layers and seeds, the slope is
    sum (z - mean z)(y - mean y) / sum (z - mean z)(x - mean x); per (layer, seed) the sum over the K pairs
    is K (z_bar - mean z)(y_bar - mean y) + K cov_k(z, y), and cov_k(c^(l+1), c^(l-1)) = c_lag2 at l + 1,
    cov_k(c^l, c^(l-1)) = c_lag1 at l."""
    i = np.flatnonzero(use)
    z, x, y = c[i - 1], c[i], c[i + 1]
    dz = z - z.mean()
    return float(np.sum(dz * (y - y.mean()) + lag2[i + 1]) / np.sum(dz * (x - x.mean()) + lag1[i]))


def fit_xi_chaotic(c: np.ndarray, lag1: np.ndarray, lag2: np.ndarray, converged: np.ndarray) -> tuple[float, str]:
    """(xi_c, reason) on the chaotic side from (layers, seeds) arrays (layers 1..depth in order; module doc);
    reason is "" when the fit succeeded. A fitted xi_c longer than depth / MIN_SPANS is returned with its
    reason (it is a measurement, only not a conclusive one)."""
    depth = c.shape[0]
    if c.shape[1] == 0:
        return math.nan, "no seeds"
    if depth < 2 * MIN_LAYERS or not np.isfinite(c).all():
        return math.nan, "c is not finite at every layer (the signal exploded or vanished)"
    mean = c.mean(axis=1)
    c_inf = _tail(mean)[0]  # the window's centre only: the slope needs no settled tail
    use = np.zeros(depth, dtype=bool)
    use[1:-1] = converged[:-2] & (np.abs(mean[:-2] - c_inf) <= C_LINEAR)
    use[1:-1] &= np.isfinite(lag1[1:-1]).all(axis=1) & np.isfinite(lag2[2:]).all(axis=1)
    if use.sum() < MIN_LAYERS:
        return math.nan, f"{int(use.sum())} usable layers (at least {MIN_LAYERS} needed)"
    chi = chi_c_pooled(c, lag1, lag2, use)
    if not 0.0 < chi < 1.0:
        return math.nan, f"the one-step slope of c is {chi:.3g}, not in (0, 1)"
    xi = -1.0 / math.log(chi)
    if xi > depth / MIN_SPANS:
        return xi, f"fitted xi_c above 1/{MIN_SPANS} of the depth: too close to the critical line for this depth"
    return xi, ""


def _jackknife(full: float, leave_one_out: list[float]) -> tuple[float, float]:
    """95 % interval full -/+ t(0.975, n - 1) * jackknife standard error over the leave-one-seed-out fits
    (NaN with fewer than 2 seeds or when a leave-one-out fit fails)."""
    v = np.asarray(leave_one_out, dtype=float)
    n = v.size
    if n < 2 or not math.isfinite(full) or not np.isfinite(v).all():
        return math.nan, math.nan
    se = math.sqrt((n - 1) / n * float(np.sum((v - v.mean()) ** 2)))
    half = quantile(0.975, n - 1) * se
    return full - half, full + half


def _theory(activation, s2, b2, q0, points):
    pp = phase_point(activation, s2, b2, q0, points)
    return {"xi_c": pp["xi_c"], "regime": pp["regime"], "q_star": pp["q_star"]}


def theory_lookup(theory: pd.DataFrame):
    """A ``theory_fn`` for :func:`xi_c_fits` reading phase_theory.csv's rows (the measured points are
    theory-grid points, written with the same round-trip digits, so the lookup is exact)."""
    cols = ["xi_c", "regime", "q_star"]
    rows = {
        (a, float(s2), float(b2)): dict(zip(cols, rest, strict=True))
        for a, s2, b2, *rest in theory[["activation", "sigma_w2", "sigma_b2", *cols]].itertuples(index=False, name=None)
    }
    return lambda activation, s2, b2: rows[(activation, float(s2), float(b2))]


def xi_c_fits(
    measured: pd.DataFrame, theory_fn=None, q0: float = 1.0, c0: float = 0.5, points: int = 48
) -> pd.DataFrame:
    """Fitted and theoretical xi_c per (activation, sigma_w2, sigma_b2, width) (module doc).

    ``theory_fn(activation, sigma_w2, sigma_b2) -> dict(xi_c, regime, q_star)``; default: engine.phase
    (pass a lookup into phase_theory.csv to reuse it); ``points``: quadrature nodes ([phase] quadrature_points)."""
    theory_fn = theory_fn or (lambda a, s2, b2: _theory(a, s2, b2, q0, points))
    rows, cache = [], {}
    for (act, s2, b2, width), df in measured.groupby(POINT, sort=True):
        key = (act, s2, b2)
        if key not in cache:
            depth = int(measured["layer"].max())
            th = theory_fn(act, s2, b2)
            q_th, _ = theory_curves(act, s2, b2, depth, q0, c0, points)
            with np.errstate(all="ignore"):  # q* = 0 (critical, sigma_b = 0) or inf: never converged
                cache[key] = th, np.abs(q_th / th["q_star"] - 1.0) <= Q_CONVERGED
        th, converged_by_layer = cache[key]
        curves = df.pivot_table(index="layer", columns="seed", values="c", dropna=False).sort_index()
        layers = curves.index.to_numpy()
        conv = converged_by_layer[layers - 1]
        if th["regime"] == "chaotic":
            lags = [
                df.pivot_table(index="layer", columns="seed", values=v, dropna=False).reindex(curves.index)
                for v in ("c_lag1", "c_lag2")
            ]

            def fit(seeds, lags=lags, curves=curves, conv=conv):
                c, lag1, lag2 = (f[seeds].to_numpy() for f in (curves, *lags))
                return fit_xi_chaotic(c, lag1, lag2, conv)

        else:

            def fit(seeds, layers=layers, curves=curves, conv=conv):
                return fit_xi(layers, curves[seeds].mean(axis=1).to_numpy(), conv)

        seeds = list(curves.columns)
        mean, why = fit(seeds)
        leave_one_out = [fit([t for t in seeds if t != s])[0] for s in seeds]
        lo, hi = _jackknife(mean, leave_one_out)
        fits = [] if why else seeds
        reasons = [why] if why else []
        if fits and not (math.isfinite(lo) and hi - lo <= MAX_WIDTH_RATIO * mean):
            fits, reasons = [], ["the interval over seeds is wider than the estimate (or undefined)"]
        finite_theory = th["regime"] in ("ordered", "chaotic") and math.isfinite(th["xi_c"])
        status = "fit" if fits and finite_theory else "inconclusive"
        reason = (
            "" if status == "fit" else (reasons[0] if not fits else f"theory regime {th['regime']}: no finite xi_c")
        )
        rows.append(
            dict(zip(POINT, (act, s2, b2, width)))
            | dict(xi_c_fit=mean, xi_c_lo=lo, xi_c_hi=hi, n_seeds=curves.shape[1], xi_c_theory=th["xi_c"])
            | dict(regime=th["regime"], status=status, reason=reason)
            | dict(away=bool(th["xi_c"] <= len(layers) / MIN_SPANS))
        )
    return pd.DataFrame(rows)


def q_error(measured: pd.DataFrame, q0: float = 1.0, c0: float = 0.5, points: int = 48) -> pd.DataFrame:
    """rel_err of q and c_err of c against the mean-field curves per (activation, sigma_w2, sigma_b2, width)."""
    rows, curves = [], {}
    depth = int(measured["layer"].max())
    for (act, s2, b2, width), df in measured.groupby(POINT, sort=True):
        if (act, s2, b2) not in curves:
            curves[(act, s2, b2)] = theory_curves(act, s2, b2, depth, q0, c0, points)
        q_th, c_th = curves[(act, s2, b2)]
        idx = df["layer"].to_numpy() - 1
        with np.errstate(all="ignore"):
            rel = np.abs(df["q"].to_numpy() / q_th[idx] - 1.0)
        c_abs = np.abs(df["c"].to_numpy() - c_th[idx])
        rows.append(
            dict(zip(POINT, (act, s2, b2, width)))
            | dict(rel_err=float(np.mean(rel)), c_err=float(np.mean(c_abs)), n_seeds=int(df["seed"].nunique()))
        )
    return pd.DataFrame(rows)


def phase_summary(errors: pd.DataFrame, regimes: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, width): mean rel_err, c_err over non-exploding points, and the activation's slope.

    ``errors``: :func:`q_error`'s frame; ``regimes``: any frame with activation, sigma_w2, sigma_b2, regime
    (phase_theory.csv or :func:`xi_c_fits`'s frame)."""
    keys = ["activation", "sigma_w2", "sigma_b2"]
    reg = regimes[keys + ["regime"]].drop_duplicates(keys)
    df = errors.merge(reg, on=keys, how="left")
    df = df[df["regime"] != "explodes"]
    out = df.groupby(["activation", "width"], sort=True)[["rel_err", "c_err"]].mean().reset_index()
    slopes = {}
    for act, g in out.groupby("activation"):
        ok = g["rel_err"] > 0
        slopes[act] = (
            float(np.polyfit(np.log(g.loc[ok, "width"]), np.log(g.loc[ok, "rel_err"]), 1)[0])
            if ok.sum() >= 2
            else math.nan
        )
    out["slope"] = out["activation"].map(slopes)
    return out


def fit_agreement(fits: pd.DataFrame) -> pd.DataFrame:
    """Per activation at the largest width (module doc): activation, width, n_points, n_fit, n_inconclusive,
    xi_rel_median (NaN without a fit), n_within, xi_tol, and the same for the points away from the critical
    line (``away``): n_away, n_away_fit, n_away_within; and per side of the line n_fit_ordered, n_within_ordered,
    n_fit_chaotic, n_within_chaotic."""
    rows = []
    for act, f in fits.groupby("activation", sort=True):
        width = int(f["width"].max())
        f = f[f["width"] == width]
        ok = f[f["status"] == "fit"]
        rel = np.abs(ok["xi_c_fit"].to_numpy(float) / ok["xi_c_theory"].to_numpy(float) - 1.0)
        within = rel <= XI_TOL
        away = ok["away"].to_numpy(bool)
        row = dict(activation=act, width=width, n_points=len(f), n_fit=len(ok), n_inconclusive=len(f) - len(ok))
        row |= dict(xi_rel_median=float(np.median(rel)) if len(rel) else math.nan, n_within=int(within.sum()))
        row |= dict(xi_tol=XI_TOL, n_away=int(f["away"].sum()), n_away_fit=int(away.sum()))
        row |= dict(n_away_within=int((within & away).sum()))
        for regime in ("ordered", "chaotic"):
            side = ok["regime"].to_numpy() == regime
            row |= {f"n_fit_{regime}": int(side.sum()), f"n_within_{regime}": int((within & side).sum())}
        rows.append(row)
    return pd.DataFrame(rows)
