"""Statistics beyond the papers: the course's interval rule, a paired bootstrap over test videos, a seed-noise test.

**The rule used everywhere** (notebooks 04, 06, 07, 09; :mod:`avvp_lib.comparisons`): a difference between two
configurations gets the 95 % interval of :func:`two_stage_bootstrap`, which resamples training seeds *and* test
videos, and :func:`verdict` calls it only when that interval excludes 0. The two older tools below measure one
source of noise each and are kept as teaching steps (notebook 09 shows why neither alone is enough).

The papers report single runs. Two different sources of noise sit behind a difference between two
methods, and this module measures each:

* **Test-set sampling** - would the difference survive another draw of 1 200 test videos?
  :func:`paired_bootstrap` resamples the test videos (the same resample for both methods: the
  comparison is *paired*) and recomputes the metric from per-video scores
  (:func:`avvp_lib.metrics.per_video_scores`).
* **Training seeds** - is the difference larger than what re-training the same method with another
  seed changes? :func:`seed_noise_test` runs Welch's t-test on the per-seed metric values.

Why per-video scores are enough: every official metric is a mean over videos of a per-video score
(``A``, ``V``, ``AV``, ``Ao``, ``Vo``, ``Event@AV``, ``Event@AVo``), and ``Type@AV = (AV + A + V) / 3``
/ ``Type@AVo = (AV + Ao + Vo) / 3`` are means of three such video-averaged numbers. A resample is a
count vector ``w`` (how often each video was drawn), so a resampled metric is ``w . s / N``; for the
Type keys the three components are resampled with the same ``w`` and averaged afterwards, exactly as
:func:`avvp_lib.metrics.evaluate` does. All ``B`` resamples and all metrics are one matrix product:
``(B, N) counts @ (N, K) per-video differences``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from avvp_lib.metrics import METRIC_KEYS, per_video_scores

__all__ = ["BootstrapResult", "bootstrap_counts", "paired_bootstrap", "paired_bootstrap_predictions",
           "seed_noise_test", "seed_noise_table", "TYPE_PARTS", "trend_bootstrap", "two_stage_bootstrap", "verdict",
           "VERDICTS"]

#: the three video-averaged parts each Type metric averages (CoLeaF Sec. 4 / official ``avg_type``)
TYPE_PARTS = {f"{lvl}/Type@AV": tuple(f"{lvl}/{p}" for p in ("AV", "A", "V")) for lvl in ("segment", "event")} | {
    f"{lvl}/Type@AVo": tuple(f"{lvl}/{p}" for p in ("AV", "Ao", "Vo")) for lvl in ("segment", "event")}


@dataclass(frozen=True)
class BootstrapResult:
    """One metric's method-minus-baseline difference (percentage points) on the test set.

    ``diff``: the observed difference on all test videos; ``ci_low``/``ci_high``: percentile
    interval of the resampled differences (``level``, default 95 %); ``share_le_0``: the share of
    resamples whose difference is <= 0 (a one-sided bootstrap p-value for "method > baseline").
    """

    metric: str
    diff: float
    ci_low: float
    ci_high: float
    share_le_0: float
    n_videos: int
    n_boot: int
    level: float


def bootstrap_counts(n_videos: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``(n_boot, n_videos)`` int32 counts: how often each video is drawn in each resample.

    Built from one seeded ``(B, N)`` index matrix (``numpy.random.default_rng(seed)``) and a single
    ``bincount`` - no Python loop over resamples. Each row sums to ``n_videos``.
    """
    if n_videos < 1 or n_boot < 1:
        raise ValueError(f"need n_videos >= 1 and n_boot >= 1; got {n_videos}, {n_boot}")
    return _counts(np.random.default_rng(seed), n_videos, n_boot)


def _counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n)`` int32 draw counts from ``rng`` (one index matrix, one ``bincount``)."""
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = idx + n * np.arange(n_boot)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.int32)


def _as_scores(scores, keys) -> np.ndarray:
    """``(K, N)`` float64 per-video scores; arrays with a leading seed axis ``(S, N)`` are seed-averaged."""
    rows = []
    for k in keys:
        if k not in scores:
            raise KeyError(f"per-video scores lack {k!r}; expected keys like {METRIC_KEYS[:3]}...")
        a = np.asarray(scores[k], dtype=np.float64)
        if a.ndim == 2:  # (seeds, videos): the seed-mean metric is the metric of the seed-mean scores
            a = a.mean(axis=0)
        if a.ndim != 1:
            raise ValueError(f"per-video scores for {k!r} must be (N,) or (seeds, N); got shape {a.shape}")
        rows.append(a)
    n = {r.shape[0] for r in rows}
    if len(n) != 1:
        raise ValueError(f"per-video scores have different numbers of videos: {sorted(n)}")
    return np.stack(rows)


def paired_bootstrap(method_scores: dict, base_scores: dict, metrics=None, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95) -> pd.DataFrame:
    """Paired bootstrap over test videos of ``metric(method) - metric(baseline)`` for each metric.

    Args:
        method_scores, base_scores: ``{metric key: per-video scores}`` in percent, as returned by
            :func:`avvp_lib.metrics.per_video_scores` for the *same* test videos in the same order.
            A value may also be ``(S, N)`` (S seeds): it is averaged over seeds first, which gives
            the bootstrap of the seed-mean difference (the mean over seeds of a metric equals the
            metric of the seed-averaged per-video scores, since the metric is linear in them).
        metrics: keys to report (default: all 18 of :data:`~avvp_lib.metrics.METRIC_KEYS`).
        n_boot: resamples; seed: the generator's seed (same seed -> same numbers); level: CI level.

    Returns:
        One row per metric with the fields of :class:`BootstrapResult`.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    metrics = list(metrics or METRIC_KEYS)
    base_keys = sorted({p for m in metrics for p in TYPE_PARTS.get(m, (m,))})
    ms, bs = _as_scores(method_scores, base_keys), _as_scores(base_scores, base_keys)
    if ms.shape != bs.shape:
        raise ValueError(f"method and baseline scores cover different numbers of videos: {ms.shape[1]} vs "
                         f"{bs.shape[1]} (pair them on the same test videos)")
    diff = ms - bs  # (K, N)
    n = diff.shape[1]
    counts = bootstrap_counts(n, n_boot, seed)
    boot = (counts @ diff.T) / n  # (B, K): every resample, every base metric
    observed = diff.mean(axis=1)
    col = {k: i for i, k in enumerate(base_keys)}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for m in metrics:
        parts = [col[p] for p in TYPE_PARTS.get(m, (m,))]
        b = boot[:, parts].mean(axis=1)  # Type: mean of the three resampled video-averaged parts
        d = float(observed[parts].mean())
        lo, hi = np.quantile(b, [lo_q, hi_q])
        rows.append(BootstrapResult(m, d, float(lo), float(hi), float(np.mean(b <= 1e-9)), n, n_boot, level))
    return pd.DataFrame([asdict(r) for r in rows])


def paired_bootstrap_predictions(method_pred, base_pred, gt, metrics=None, n_boot: int = 1000, seed: int = 0,
                                 level: float = 0.95) -> pd.DataFrame:
    """:func:`paired_bootstrap` from binary predictions.

    ``method_pred``, ``base_pred``: ``(pred_a, pred_v)`` pairs of ``(N, T, C)`` arrays, or lists of such
    pairs (one per seed; per-video scores are then averaged over seeds); ``gt``: ``(gt_a, gt_v)``.
    """
    def scores(preds):
        preds = [preds] if len(preds) == 2 and np.ndim(preds[0]) == 3 else list(preds)
        per_seed = [per_video_scores(pa, pv, *gt) for pa, pv in preds]
        return {k: np.stack([s[k] for s in per_seed]) for k in METRIC_KEYS}

    return paired_bootstrap(scores(method_pred), scores(base_pred), metrics, n_boot, seed, level)


def seed_noise_test(method_values, base_values, alpha: float = 0.05) -> dict:
    """Is a seed-mean difference larger than seed noise? Welch's t-test over the per-seed values.

    ``method_values``, ``base_values``: one metric value per training seed (at least 2 each).
    Returns ``diff`` (difference of the seed means), ``t``, ``p`` (two-sided) and ``distinguishable``
    (``p < alpha``). When both groups have zero variance the test is degenerate: ``p`` is 0 when the
    means differ and 1 when they are equal.
    """
    from scipy import stats

    a, b = np.asarray(method_values, dtype=np.float64), np.asarray(base_values, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise ValueError(f"Welch's t-test needs >= 2 seeds per group; got {a.size} and {b.size}")
    diff = float(a.mean() - b.mean())
    if a.var(ddof=1) == 0 and b.var(ddof=1) == 0:
        t, p = (math.inf if diff > 0 else -math.inf if diff < 0 else 0.0), (0.0 if diff != 0 else 1.0)
    else:
        res = stats.ttest_ind(a, b, equal_var=False)
        t, p = float(res.statistic), float(res.pvalue)
    return {"diff": diff, "t": t, "p": p, "distinguishable": bool(p < alpha), "n_method": int(a.size),
            "n_base": int(b.size)}


def seed_noise_table(frame: pd.DataFrame, baseline: str = "HAN", metrics=None, by: str = "method",
                     alpha: float = 0.05) -> pd.DataFrame:
    """:func:`seed_noise_test` of every group in a results frame against ``baseline`` (rows: group x metric).

    ``frame``: results rows (one per seed) of a single data source and profile; ``by``: the column
    naming the groups (``method``, or a label column).
    """
    metrics = list(metrics or METRIC_KEYS)
    if frame[["data", "profile"]].drop_duplicates().shape[0] > 1:
        raise ValueError("seed_noise_table compares rows of one data source and profile; filter the frame first")
    base = frame[frame[by] == baseline]
    if base.empty:
        raise KeyError(f"no rows with {by} == {baseline!r}; groups present: {sorted(frame[by].unique())}")
    rows = []
    for name, group in frame.groupby(by, sort=False):
        if name == baseline:
            continue
        for m in metrics:
            rows.append({by: name, "metric": m, **seed_noise_test(group[m], base[m], alpha)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ the course's rule
#: what :func:`verdict` can say: with a paper difference, and without one
VERDICTS = ("agrees", "contradicts", "inconclusive", "higher", "lower")


def _stack(scores: dict, keys) -> np.ndarray:
    """``(S, K, N)`` float64 from ``{key: (S, N) or (N,)}``."""
    out = []
    for k in keys:
        if k not in scores:
            raise KeyError(f"per-video scores lack {k!r}; have {sorted(scores)}")
        a = np.asarray(scores[k], dtype=np.float64)
        out.append(a[None] if a.ndim == 1 else a)
    shapes = {a.shape for a in out}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"per-video scores must all be (S, N) of one shape; got {sorted(shapes)}")
    return np.stack(out, axis=1)


def _seed_video_replicates(scores: np.ndarray, videos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(B, K)``: per replicate, the mean over a draw of the S seeds (with replacement, from ``rng``) of each
    seed's metric on the video resample ``videos`` (``(B, N)`` counts); ``scores`` is ``(S, K, N)``."""
    b, n = videos.shape
    s = scores.shape[0]
    weights = _counts(rng, s, b).astype(np.float64) / s  # (B, S): the share of the seed draws that picked each seed
    per_seed = (videos @ scores.reshape(-1, n).T).reshape(b, s, -1) / n  # (B, S, K)
    return np.einsum("bs,bsk->bk", weights, per_seed)


def two_stage_bootstrap(method_scores: dict, base_scores: dict, metrics=None, n_boot: int = 2000, seed: int = 0,
                        level: float = 0.95, paired_seeds: bool = True) -> pd.DataFrame:
    """95 % interval of ``metric(method) - metric(baseline)`` over training seeds *and* test videos.

    The two-stage (hierarchical) bootstrap (Davison & Hinkley 1997, *Bootstrap Methods and their
    Application*, Sec. 3.8; for ML benchmarks Bouthillier et al. 2021, "Accounting for Variance in Machine
    Learning Benchmarks", MLSys): each replicate draws the seeds with replacement (the same seed indices for
    both sides when ``paired_seeds``: a seed fixes the data order, so seed k of both is a pair) and the test
    videos with replacement (the same videos for both: paired), and takes the mean over the drawn seeds of the
    difference of the resampled metric (Type keys: the mean of their three resampled parts, as
    :func:`paired_bootstrap`). Percentile interval.

    Args:
        method_scores, base_scores: ``{metric key: (S, N)}`` per-video scores in percent (S seeds, the same N test
            videos in the same order on both sides). ``S`` may differ only with ``paired_seeds=False``. With S = 1
            the interval is the video bootstrap alone (``resampled`` says so).
    Returns:
        One row per metric: ``metric, diff`` (mean over seeds of the full-test-set differences), ``ci_low,
        ci_high, n_seeds`` (``"S"`` or ``"S vs S'"``), ``n_videos, n_boot, level, resampled`` (``"seeds and
        videos"``, or ``"videos only (1 seed)"`` when both sides have one seed: then no seed noise is measured).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    metrics = list(metrics or METRIC_KEYS)
    keys = sorted({p for m in metrics for p in TYPE_PARTS.get(m, (m,))})
    ms, bs = _stack(method_scores, keys), _stack(base_scores, keys)  # (S, K, N)
    if ms.shape[2] != bs.shape[2]:
        raise ValueError(f"method and baseline scores cover different numbers of videos: {ms.shape[2]} vs "
                         f"{bs.shape[2]} (pair them on the same test videos)")
    if paired_seeds and ms.shape[0] != bs.shape[0]:
        raise ValueError(f"paired seeds need the same number of seeds on both sides; got {ms.shape[0]} and "
                         f"{bs.shape[0]} (pass paired_seeds=False)")
    s_m, _, n = ms.shape
    s_b = bs.shape[0]
    rng = np.random.default_rng(seed)  # one stream: the video draws first (= bootstrap_counts(n, n_boot, seed)),
    videos = _counts(rng, n, n_boot).astype(np.float64)  # then the seed draws, independent of them
    if paired_seeds:
        boot = _seed_video_replicates(ms - bs, videos, rng)
    else:
        boot = _seed_video_replicates(ms, videos, rng) - _seed_video_replicates(bs, videos, rng)
    observed = ms.mean(axis=(0, 2)) - bs.mean(axis=(0, 2))  # (K,)
    col = {k: i for i, k in enumerate(keys)}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    seeds = f"{s_m}" if paired_seeds else f"{s_m} vs {s_b}"
    resampled_what = "seeds and videos" if max(s_m, s_b) > 1 else "videos only (1 seed)"
    rows = []
    for m in metrics:
        parts = [col[p] for p in TYPE_PARTS.get(m, (m,))]
        b = boot[:, parts].mean(axis=1)
        lo, hi = np.quantile(b, [lo_q, hi_q])
        rows.append({"metric": m, "diff": float(observed[parts].mean()), "ci_low": float(lo), "ci_high": float(hi),
                     "n_seeds": seeds, "n_videos": n, "n_boot": n_boot, "level": level,
                     "resampled": resampled_what})
    return pd.DataFrame(rows)


def verdict(ci_low: float, ci_high: float, paper_diff: float | None = None, tol: float = 1e-9) -> str:
    """The one reading of an interval. With the paper's difference (non-zero): ``agrees`` when the interval
    excludes 0 on the paper's side, ``contradicts`` when it excludes 0 on the other, else ``inconclusive``.
    Without one (None, NaN or 0): ``higher`` / ``lower`` / ``inconclusive``."""
    above, below = ci_low > tol, ci_high < -tol
    if paper_diff is None or paper_diff != paper_diff or abs(paper_diff) < tol:
        return "higher" if above else "lower" if below else "inconclusive"
    if not (above or below):
        return "inconclusive"
    return "agrees" if above == (paper_diff > 0) else "contradicts"


def trend_bootstrap(levels: list, x, metrics, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """95 % interval of the *trend* of an effect over a controlled cause: the least-squares slope of
    ``metric(method) - metric(baseline)`` against ``x`` (one value per level).

    The two-stage bootstrap of :func:`two_stage_bootstrap` at every level, with the same test-video draws at every
    level (the levels are scored on the same test videos, so a video's difficulty is shared) and independent seed
    draws per level (each level trained its own runs; seeds paired within a level), then one slope per replicate.
    Args:
        levels: ``[(method_scores, base_scores), ...]``, one pair of ``{metric key: (S, N)}`` per level, the same N
            test videos in the same order everywhere.
        x: the levels' measured cause (at least two distinct values).
    Returns:
        One row per metric: ``metric, slope`` (of the observed effects), ``ci_low, ci_high, n_levels, n_seeds``.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(levels) != len(x) or len(np.unique(x)) < 2:
        raise ValueError(f"a trend needs one x per level and two distinct x; got {len(levels)} levels, x={x.tolist()}")
    metrics = list(metrics)
    keys = sorted({p for m in metrics for p in TYPE_PARTS.get(m, (m,))})
    diffs = []
    for ms_dict, bs_dict in levels:
        ms, bs = _stack(ms_dict, keys), _stack(bs_dict, keys)
        if ms.shape != bs.shape:
            raise ValueError(f"paired seeds and videos need equal shapes; got {ms.shape} and {bs.shape}")
        diffs.append(ms - bs)  # (S, K, N)
    n = {d.shape[2] for d in diffs}
    if len(n) != 1:
        raise ValueError(f"every level must be scored on the same test videos; got {sorted(n)} videos")
    n = n.pop()
    rng = np.random.default_rng(seed)
    videos = _counts(rng, n, n_boot).astype(np.float64)  # (B, N), shared by the levels
    boot = np.stack([_seed_video_replicates(d, videos, rng) for d in diffs], axis=1)  # (B, L, K)
    observed = np.stack([d.mean(axis=(0, 2)) for d in diffs])  # (L, K)
    xc = (x - x.mean()) / ((x - x.mean()) ** 2).sum()  # slope = sum_l xc_l * effect_l
    col = {k: i for i, k in enumerate(keys)}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for m in metrics:
        parts = [col[p] for p in TYPE_PARTS.get(m, (m,))]
        slopes = boot[:, :, parts].mean(axis=2) @ xc
        lo, hi = np.quantile(slopes, [lo_q, hi_q])
        rows.append({"metric": m, "slope": float(observed[:, parts].mean(axis=1) @ xc), "ci_low": float(lo),
                     "ci_high": float(hi), "n_levels": len(levels), "n_seeds": "/".join(str(d.shape[0]) for d in diffs)})
    return pd.DataFrame(rows)
