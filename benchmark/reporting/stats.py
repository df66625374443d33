"""Uncertainty of table cells and paired comparisons between methods, from stored per-query values.

Every run stores the per-query AP of each task (``per_query_<task>_ap`` in its ``.npz``; see
:func:`xbench.evaluating.metrics.per_query_values`), so nothing here retrains. A *cell* (one method on one
dataset, code length, R, task and training-label setting) is a list of per-seed arrays of
per-query values; its estimate is the mean over seeds of the per-seed means (the table's mAP).

* :func:`bootstrap_ci` — a percentile bootstrap interval of the cell estimate. One seed: an
  ordinary bootstrap over queries, computed by :func:`scipy.stats.bootstrap`. Several seeds: a
  two-stage (nested) bootstrap — draw S seeds with replacement, then, inside every drawn seed,
  its queries with replacement (:func:`nested_bootstrap_means`).
* :func:`paired_test` — the p-value of a two-sided paired test of "no difference" between two
  methods on the same queries and seeds: an exact (or Monte-Carlo) sign-flip permutation test
  over queries, or the Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`).
* :func:`holm` — Holm's step-down adjustment of a family of p-values.
* :func:`compare` — the comparisons of a whole table (two methods, or every method against the
  best of each cell), with paired intervals, p-values and Holm's correction per table.

All resampling is seeded (:func:`cell_rng`) and reproducible; docs/statistics.md gives the formulas.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

#: Default number of bootstrap resamples / random sign flips.
N_RESAMPLES = 9999
#: Up to this many units the sign-flip test enumerates all 2^n sign vectors (exact p-value).
EXACT_MAX_UNITS = 16
TESTS = ("signflip", "wilcoxon")
#: Which per-query array of a run's .npz belongs to a report metric.
PER_QUERY_FIELD = {"map": "ap", "map_tie": "ap_tie", "precision_radius2": "precision_radius2"}


class StatsInputError(ValueError):
    """Bad input to a statistics function; the message names the argument."""


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval of ``estimate`` at confidence ``level``."""

    estimate: float
    low: float
    high: float
    level: float
    method: str
    n_seeds: int
    n_queries: int

    @property
    def half_width(self) -> float:
        """(high − low)/2: the ``±`` value shown in tables (the interval itself may be asymmetric)."""
        return (self.high - self.low) / 2


def _as_seeds(values: Any, name: str = "values") -> list[np.ndarray]:
    """A list of non-empty finite 1-D float arrays (one per seed) from an array or a list of arrays."""
    try:  # a flat sequence of numbers is one seed; a rectangular 2-D one is seeds × queries
        arr = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):  # ragged: one array per seed
        arr = None
    if arr is not None and arr.ndim == 1:
        seeds = [arr]
    elif arr is not None and arr.ndim == 2:
        seeds = list(arr)
    else:
        seeds = [np.asarray(v) for v in values]
    if not seeds:
        raise StatsInputError(f"{name}: no seeds")
    out = []
    for i, v in enumerate(seeds):
        v = np.asarray(v, dtype=np.float64)
        if v.ndim != 1 or v.size == 0:
            raise StatsInputError(
                f"{name}: seed {i} must be a non-empty 1-D array of per-query values, got shape {v.shape}"
            )
        if not np.isfinite(v).all():
            raise StatsInputError(f"{name}: seed {i} holds a non-finite value")
        out.append(v)
    return out


def cell_estimate(values: Any) -> float:
    """Mean over seeds of the per-seed mean over queries (the number a table shows)."""
    return float(np.mean([v.mean() for v in _as_seeds(values)]))


def cell_rng(seed: int, *key: Any) -> np.random.Generator:
    """A generator seeded by ``seed`` and a CRC-32 of the cell key, so that a cell's interval does
    not depend on which other cells are in the report (nor on the process: no ``hash()``)."""
    digest = zlib.crc32("\x1f".join(map(str, key)).encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, digest]))


def nested_bootstrap_means(
    values: Any, n_resamples: int, rng: np.random.Generator, batch_items: int = 1 << 22
) -> np.ndarray:
    """Bootstrap distribution of :func:`cell_estimate` under two-stage resampling.

    Each resample draws S seed indices uniformly with replacement; for every drawn seed s it draws
    n_s of s's queries uniformly with replacement and takes their mean; the resample's value is the
    mean of these S means. With one seed this is the ordinary bootstrap of the mean over queries.
    Work is done in batches of about ``batch_items`` drawn values.
    """
    seeds = _as_seeds(values)
    if n_resamples < 1:
        raise StatsInputError(f"n_resamples: expected a positive integer, got {n_resamples}")
    n_s = len(seeds)
    biggest = max(v.size for v in seeds)
    batch = max(1, batch_items // (n_s * biggest))
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        picks = rng.integers(0, n_s, size=(b, n_s))
        total = np.zeros(b)
        for j in range(n_s):
            for s, v in enumerate(seeds):
                rows = np.flatnonzero(picks[:, j] == s)
                if rows.size:
                    total[rows] += v[rng.integers(0, v.size, size=(rows.size, v.size))].mean(axis=1)
        out[start : start + b] = total / n_s
    return out


def bootstrap_ci(
    values: Any,
    level: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    rng: np.random.Generator | int | None = 0,
) -> Interval:
    """Percentile bootstrap interval of the cell estimate (mean over seeds of mean over queries).

    One seed: :func:`scipy.stats.bootstrap` (``method='percentile'``) over the queries. Several
    seeds: the two-stage bootstrap of :func:`nested_bootstrap_means` and the α/2, 1 − α/2 sample
    quantiles (numpy's default linear interpolation, as scipy's percentile method).
    """
    if not 0 < level < 1:
        raise StatsInputError(f"level: expected a confidence level in (0, 1), got {level}")
    seeds = _as_seeds(values)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    est = cell_estimate(seeds)
    nq = int(sum(v.size for v in seeds))
    alpha = 1 - level
    if len(seeds) == 1:
        x = seeds[0]
        if x.size == 1 or np.all(x == x[0]):  # degenerate: every resample has the same mean
            return Interval(est, est, est, level, "percentile bootstrap over queries", 1, nq)
        res = sps.bootstrap(
            (x,),
            np.mean,
            n_resamples=n_resamples,
            confidence_level=level,
            method="percentile",
            vectorized=True,
            rng=gen,
            batch=max(1, (1 << 22) // x.size),
        )  # bounded memory: ~2^22 draws at once
        ci = res.confidence_interval
        return Interval(est, float(ci.low), float(ci.high), level, "percentile bootstrap over queries", 1, nq)
    dist = nested_bootstrap_means(seeds, n_resamples, gen)
    low, high = np.quantile(dist, [alpha / 2, 1 - alpha / 2])
    return Interval(
        est,
        float(low),
        float(high),
        level,
        "two-stage percentile bootstrap (seeds, then queries within seeds)",
        len(seeds),
        nq,
    )


# ----------------------------------------------------------------------------------------------
# paired tests
# ----------------------------------------------------------------------------------------------


def paired_units(a: Any, b: Any, aligned: bool = True) -> np.ndarray:
    """Per-unit contributions c with Σc = estimate(a) − estimate(b), the units of the paired test.

    ``a`` and ``b`` hold the same seeds in the same order and, per seed, the same queries in the
    same order. ``aligned`` (every seed has the same query set): a unit is a query and
    c_q = (1/(S·Q)) Σ_s (a_sq − b_sq). Otherwise a unit is a (seed, query) pair with
    c_sq = (a_sq − b_sq)/(S·n_s).
    """
    sa, sb = _as_seeds(a, "a"), _as_seeds(b, "b")
    if len(sa) != len(sb):
        raise StatsInputError(f"b: {len(sb)} seeds but a has {len(sa)}")
    for i, (x, y) in enumerate(zip(sa, sb, strict=True)):
        if x.size != y.size:
            raise StatsInputError(f"b: seed {i} has {y.size} queries but a has {x.size}")
    n_s = len(sa)
    if aligned:
        if len({x.size for x in sa}) != 1:
            raise StatsInputError("a: aligned=True needs the same number of queries in every seed")
        d = np.stack([x - y for x, y in zip(sa, sb, strict=True)])
        return d.sum(axis=0) / (n_s * d.shape[1])
    return np.concatenate([(x - y) / (n_s * x.size) for x, y in zip(sa, sb, strict=True)])


def _count_at_least(units: np.ndarray, observed: float, signs: np.ndarray) -> int:
    """How many sign vectors (rows of ±1) give |Σ sign·unit| ≥ |observed| (relative tolerance 1e-12)."""
    stat = np.abs(signs @ units)
    return int(np.count_nonzero(stat >= abs(observed) * (1 - 1e-12) - 1e-300))


def signflip_pvalue(
    units: Any,
    n_resamples: int = N_RESAMPLES,
    rng: np.random.Generator | int | None = 0,
    exact_max: int = EXACT_MAX_UNITS,
) -> tuple[float, str]:
    """Two-sided sign-flip (paired permutation) test of H0: each unit's value is symmetric about 0.

    T = Σ c_u. Exact for n ≤ ``exact_max`` units: p = #{ε ∈ {±1}^n : |Σ ε_u c_u| ≥ |T|} / 2^n.
    Otherwise Monte Carlo with B = ``n_resamples`` random sign vectors:
    p = (1 + #{b : |T_b| ≥ |T|}) / (B + 1) (never 0; Phipson & Smyth 2010). Units that are exactly
    0 change nothing and are kept. Returns (p, 'exact' | 'monte-carlo').
    """
    c = np.asarray(units, dtype=np.float64).ravel()
    if c.size == 0:
        raise StatsInputError("units: empty")
    t = float(c.sum())
    if not np.any(c):
        return 1.0, "exact"
    if c.size <= exact_max:
        total, count = 0, 0
        for chunk in _sign_chunks(c.size):
            count += _count_at_least(c, t, chunk)
            total += chunk.shape[0]
        return count / total, "exact"
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    count, done, batch = 0, 0, max(1, (1 << 22) // c.size)
    while done < n_resamples:
        b = min(batch, n_resamples - done)
        signs = gen.integers(0, 2, size=(b, c.size), dtype=np.int8) * 2 - 1
        count += _count_at_least(c, t, signs.astype(np.float64))
        done += b
    return (1 + count) / (n_resamples + 1), "monte-carlo"


def _sign_chunks(n: int, rows: int = 1 << 14):
    """All 2^n sign vectors as float rows, in chunks."""
    total = 1 << n
    bits = np.arange(n, dtype=np.int64)
    for start in range(0, total, rows):
        idx = np.arange(start, min(total, start + rows), dtype=np.int64)
        yield (((idx[:, None] >> bits[None, :]) & 1) * 2 - 1).astype(np.float64)


def wilcoxon_pvalue(units: Any) -> float:
    """Two-sided Wilcoxon signed-rank p-value of the units (:func:`scipy.stats.wilcoxon`,
    ``zero_method='wilcox'``, ``method='auto'``: exact for small n without ties, else normal);
    1.0 when every unit is 0."""
    c = np.asarray(units, dtype=np.float64).ravel()
    if not np.any(c):
        return 1.0
    return float(sps.wilcoxon(c, zero_method="wilcox", alternative="two-sided").pvalue)


def paired_test(
    a: Any,
    b: Any,
    test: str = "signflip",
    aligned: bool = True,
    n_resamples: int = N_RESAMPLES,
    rng: np.random.Generator | int | None = 0,
) -> float:
    """p-value of the paired test ``test`` ('signflip' or 'wilcoxon') on :func:`paired_units`."""
    units = paired_units(a, b, aligned)
    if test == "signflip":
        return signflip_pvalue(units, n_resamples, rng)[0]
    if test == "wilcoxon":
        return wilcoxon_pvalue(units)
    raise StatsInputError(f"test: expected one of {', '.join(TESTS)}, got {test!r}")


def paired_ci(
    a: Any,
    b: Any,
    level: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    rng: np.random.Generator | int | None = 0,
) -> Interval:
    """Percentile bootstrap interval of estimate(a) − estimate(b), resampling the per-(seed, query)
    differences a − b (the same queries and seeds for both methods: a paired interval)."""
    sa, sb = _as_seeds(a, "a"), _as_seeds(b, "b")
    paired_units(sa, sb, aligned=False)  # shape checks
    return bootstrap_ci([x - y for x, y in zip(sa, sb, strict=True)], level, n_resamples, rng)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), NaN entries left out of the family.

    With the m finite p-values sorted p_(1) ≤ … ≤ p_(m): p̃_(i) = min(1, max_{j ≤ i} (m − j + 1)·p_(j)).
    Rejecting where p̃ < α controls the family-wise error rate at α.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


# ----------------------------------------------------------------------------------------------
# cells and whole tables
# ----------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """Per-query values of one method in one cell: ``values[i]`` for seed ``seeds[i]``;
    ``queries[i]`` identifies the queries (e.g. the split's query index) when known."""

    seeds: tuple[int, ...]
    values: list[np.ndarray]
    queries: list[np.ndarray | None] = field(default_factory=list)

    @property
    def estimate(self) -> float:
        return cell_estimate(self.values)


@dataclass
class Comparison:
    """One paired comparison ``a`` − ``b`` in a cell (``key`` = the cell's identity)."""

    table: str
    key: tuple
    a: str
    b: str
    mean_a: float
    mean_b: float
    diff: float
    low: float
    high: float
    p: float
    p_holm: float = math.nan
    seeds: tuple[int, ...] = ()
    n_queries: int = 0
    test: str = "signflip"
    note: str = ""

    def significant(self, alpha: float = 0.05) -> bool:
        return bool(self.p_holm < alpha)


def pair_samples(
    a: Sample, b: Sample
) -> tuple[list[np.ndarray], list[np.ndarray], tuple[int, ...], bool, str]:
    """The common seeds of two samples with their per-query arrays, whether the queries are the
    same in every seed (``aligned``), and a note ('' if fine). Raises StatsInputError when a common
    seed has different queries for the two methods (the comparison would not be paired)."""
    common = [s for s in a.seeds if s in set(b.seeds)]
    if not common:
        raise StatsInputError("no common seed")
    xa, xb, qs = [], [], []
    for s in common:
        i, j = a.seeds.index(s), b.seeds.index(s)
        qa = a.queries[i] if i < len(a.queries) else None
        qb = b.queries[j] if j < len(b.queries) else None
        if a.values[i].size != b.values[j].size or (
            qa is not None and qb is not None and not np.array_equal(qa, qb)
        ):
            raise StatsInputError(f"seed {s}: the two methods were evaluated on different queries")
        xa.append(a.values[i])
        xb.append(b.values[j])
        qs.append(qa if qa is not None else qb)
    aligned = len({x.size for x in xa}) == 1 and (
        all(q is None for q in qs) or all(q is not None and np.array_equal(q, qs[0]) for q in qs)
    )
    dropped = sorted((set(a.seeds) | set(b.seeds)) - set(common))
    note = f"seeds {', '.join(map(str, dropped))} not in both" if dropped else ""
    return xa, xb, tuple(common), aligned, note


def compare_pair(
    table: str,
    key: tuple,
    name_a: str,
    a: Sample,
    name_b: str,
    b: Sample,
    *,
    test: str = "signflip",
    level: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Paired difference a − b of one cell: mean, percentile interval and p-value (not yet Holm)."""
    xa, xb, seeds, aligned, note = pair_samples(a, b)
    ci = paired_ci(xa, xb, level, n_resamples, cell_rng(seed, "ci", table, *key, name_a, name_b))
    p = paired_test(xa, xb, test, aligned, n_resamples, cell_rng(seed, "test", table, *key, name_a, name_b))
    return Comparison(
        table,
        key,
        name_a,
        name_b,
        cell_estimate(xa),
        cell_estimate(xb),
        ci.estimate,
        ci.low,
        ci.high,
        p,
        seeds=seeds,
        n_queries=int(xa[0].size),
        test=test,
        note=note,
    )


def compare(
    cells: Mapping[tuple[str, tuple], Mapping[str, Sample]],
    *,
    pair: tuple[str, str] | None = None,
    test: str = "signflip",
    level: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> list[Comparison]:
    """Paired comparisons of a set of tables.

    ``cells`` maps (table, cell key) → {method label: Sample}. With ``pair = (A, B)``: A − B in
    every cell holding both. Without: in every cell with ≥ 2 methods, best − other for every other
    method, where best has the highest estimate (ties: first label in sorted order). Holm's
    adjustment runs over all comparisons of one table (the family), whatever the mode.
    """
    if test not in TESTS:
        raise StatsInputError(f"test: expected one of {', '.join(TESTS)}, got {test!r}")
    out: list[Comparison] = []
    for (table, key), samples in cells.items():
        if pair is not None:
            a, b = pair
            if a in samples and b in samples:
                out.append(
                    _safe_compare(table, key, a, samples[a], b, samples[b], test, level, n_resamples, seed)
                )
            continue
        if len(samples) < 2:
            continue
        ranked = sorted(samples, key=lambda lab: (-samples[lab].estimate, lab))
        best = ranked[0]
        for other in ranked[1:]:
            out.append(
                _safe_compare(
                    table, key, best, samples[best], other, samples[other], test, level, n_resamples, seed
                )
            )
    for table in dict.fromkeys(c.table for c in out):
        family = [c for c in out if c.table == table]
        for c, adj in zip(family, holm([c.p for c in family]), strict=True):
            c.p_holm = float(adj)
    return out


def _safe_compare(table, key, a, sa, b, sb, test, level, n_resamples, seed) -> Comparison:
    try:
        return compare_pair(
            table, key, a, sa, b, sb, test=test, level=level, n_resamples=n_resamples, seed=seed
        )
    except StatsInputError as exc:
        nan = math.nan
        return Comparison(
            table,
            key,
            a,
            b,
            sa.estimate,
            sb.estimate,
            sa.estimate - sb.estimate,
            nan,
            nan,
            nan,
            test=test,
            note=f"not compared: {exc}",
        )


def tied_with_best(comparisons: Sequence[Comparison], alpha: float = 0.05) -> set[tuple[str, tuple, str]]:
    """(table, key, label) of every method whose difference from the best of its cell is not
    significant at ``alpha`` after Holm's adjustment (comparisons from :func:`compare` without pair)."""
    return {(c.table, c.key, c.b) for c in comparisons if np.isfinite(c.p_holm) and not c.significant(alpha)}


# ----------------------------------------------------------------------------------------------
# per-query values of stored runs
# ----------------------------------------------------------------------------------------------

#: Columns of the results frame that identify a table (setting) and a cell within it.
CELL_COLUMNS = ("dataset", "r", "bits", "task")


def _run_arrays(row: Any) -> dict[str, np.ndarray]:
    """The .npz arrays of a frame row: through its results-layer record when the frame has one,
    else read from the file beside the row's JSON ``path``."""
    record = getattr(row, "record", None)
    if record is not None and hasattr(record, "arrays"):
        return record.arrays()
    from xbench.reporting.results import read_run

    return read_run(row.path).arrays()


def load_samples(
    ok: Any, metric: str = "map"
) -> tuple[dict[tuple[str, tuple], dict[str, Sample]], list[str]]:
    """Per-query samples of every (table, cell, method label) from the successful run × task rows.

    ``ok``: a results frame with one row per run, task and seed, and the columns ``setting``,
    ``label``, ``seed``, ``path``, ``value`` and :data:`CELL_COLUMNS` (e.g. ``xbench.reporting.tables.ok_rows``).
    The per-query values are the ``per_query_<task>_<field>`` arrays of each run's .npz; a run
    without them (stored by an older xbench) or whose per-query mean does not reproduce its stored
    value is left out, with a note. Returns ({(setting, (dataset, R, bits, task)): {label: Sample}}, notes).
    """
    if metric not in PER_QUERY_FIELD:
        raise StatsInputError(
            f"metric: no per-query values for '{metric}'; expected one of {', '.join(PER_QUERY_FIELD)}"
        )
    field_name = PER_QUERY_FIELD[metric]
    arrays_of: dict[str, dict[str, np.ndarray]] = {}
    cells: dict[tuple[str, tuple], dict[str, Sample]] = {}
    missing, mismatched = set(), set()
    unreadable: list[str] = []
    for row in ok.sort_values("seed", kind="stable").itertuples(index=False):
        path = str(row.path)
        if path not in arrays_of:
            try:
                arrays_of[path] = _run_arrays(row)
            except (
                ValueError,
                OSError,
                zipfile.BadZipFile,
            ) as exc:  # unreadable/foreign .npz (DamagedResult)
                unreadable.append(str(exc))
                arrays_of[path] = {}
        arrays = arrays_of[path]
        values = arrays.get(f"per_query_{row.task}_{field_name}")
        if values is None:
            missing.add(path)
            continue
        values = np.asarray(values, dtype=np.float64)
        if not math.isclose(float(values.mean()), float(row.value), rel_tol=1e-9, abs_tol=1e-9):
            mismatched.add(path)
            continue
        key = (str(row.setting), (row.dataset, row.r, int(row.bits), row.task))
        sample = cells.setdefault(key, {}).setdefault(str(row.label), Sample((), [], []))
        sample.seeds = (*sample.seeds, int(row.seed))
        sample.values.append(values)
        sample.queries.append(arrays.get("query_index"))
    notes = []
    if missing:
        notes.append(
            f"{len(missing)} run(s) have no stored per-query values (stored by an older xbench); "
            "they are left out of the intervals and tests"
        )
    notes += [f"per-query values left out: {u}" for u in unreadable]
    if mismatched:
        notes.append(
            f"{len(mismatched)} run(s) have per-query values whose mean differs from the stored "
            f"{metric}; they are left out of the intervals and tests"
        )
    return cells, notes
