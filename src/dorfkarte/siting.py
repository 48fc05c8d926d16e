"""Location models on plain matrices: where should k new service points go?

Everything here works on a *cost matrix* (demand points x candidate sites, minutes or
metres, ``inf`` = unreachable) with a weight per demand point (residents), plus each
demand point's current time to the existing providers. Existing providers therefore count
as already covering: only residents not yet within the threshold are demand for new sites
(MCLP), and a new site only helps where it beats the current time (p-median).

- :func:`greedy_mclp`: fast, picks the site with the largest marginal gain k times
  (1 - 1/e guarantee); reports the gain of each added site in order.
- :func:`exact_mclp`: the maximal covering location problem solved to optimality with
  PySAL ``spopt.locate.MCLP`` and an open MIP solver (HiGHS, else CBC, both via PuLP).
  spopt's own ``from_cost_matrix`` writes one dense constraint per demand point
  (21 s to build 3,000 x 200 here); we hand spopt the same model built sparsely, on a
  reduced instance: covered or uncoverable demand is dropped and demand points covered by
  the same candidate set are merged (an exact reduction: same optimum, same objective).
- :func:`exact_pmedian`: minimise total weighted travel time with ``spopt.locate.PMedian``
  (existing providers as one always-open "site", assignment variables only where a
  candidate beats the current time, again an exact reduction); :func:`greedy_pmedian`
  for instances too large for the MIP.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp
import scipy.sparse as sp

from dorfkarte.errors import DorfkarteError

#: Seconds the MIP solver may take before we fall back to the greedy answer.
DEFAULT_TIME_LIMIT = 30.0
#: Largest number of assignment variables handed to the exact p-median.
PMEDIAN_MAX_PAIRS = 300_000


class SitingError(DorfkarteError, ValueError):
    """A location model cannot be set up (k too large, no candidates, bad matrix)."""


@dataclass
class SitingSolution:
    """Chosen candidate indices, in the order they add coverage, and what each adds.

    ``gains[i]`` is what site ``selected[i]`` adds given the ones before it (residents
    newly covered for MCLP, minutes x residents saved for p-median). ``objective`` is the
    total (covered weight, or total weighted time for p-median). ``optimal`` says whether
    a solver proved it optimal; ``gap`` (greedy only, when the exact answer is known) is
    ``(exact - greedy) / exact`` for MCLP, ``(greedy - exact) / exact`` for p-median.
    """

    method: str  # "exact" | "greedy" | "pmedian" | "pmedian-greedy"
    selected: list[int]
    gains: list[float]
    objective: float
    optimal: bool
    seconds: float = 0.0
    solver: str = ""
    gap: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.selected)


# ---- helpers ------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PuLP 3.3 warns on every ``LpVariable(...)`` (its 4.0 API change); spopt uses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@contextlib.contextmanager
def _no_banner() -> Iterator[None]:
    """Keep HiGHS's start banner off stdout (CLI output, the app's server log).

    highspy prints "Running HiGHS ..." from C++ when a solver object is built, whatever
    ``msg``/``output_flag`` say, so Python's ``redirect_stdout`` cannot catch it: file
    descriptor 1 points at /dev/null for the solve and is restored afterwards.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (captured, embedded)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def coverage_matrix(cost: np.ndarray, threshold: float) -> sp.csr_matrix:
    """Boolean sparse matrix (demand x candidates): candidate within ``threshold``."""
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise SitingError("Kostenmatrix muss zweidimensional sein (Nachfragepunkte x Standorte)")
    return sp.csr_matrix(c <= threshold)


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float).ravel()
    if len(w) != n:
        raise SitingError(f"{len(w)} Gewichte für {n} Nachfragepunkte")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        row = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise SitingError(f"Gewicht von Nachfragepunkt {row + 1} ist keine Zahl >= 0")
    return w


def _check_k(k: int, n_cand: int) -> None:
    if k < 1:
        raise SitingError(f"k muss mindestens 1 sein, nicht {k}")
    if n_cand == 0:
        raise SitingError("Keine Kandidatenstandorte")
    if k > n_cand:
        raise SitingError(f"k = {k} ist größer als die Zahl der Kandidaten ({n_cand})")


def _as_cover(cover: np.ndarray | sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(cover, dtype=bool)
    m.eliminate_zeros()
    return m


def uncovered_weights(weights: np.ndarray, current: np.ndarray | None,
                      threshold: float) -> np.ndarray:
    """Weights of demand points not yet within ``threshold`` of an existing provider."""
    w = np.asarray(weights, dtype=float)
    if current is None:
        return w.copy()
    cur = np.asarray(current, dtype=float)
    return np.where(cur <= threshold, 0.0, w)


def reduce_cover(cover: sp.csr_matrix, weights: np.ndarray
                 ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Exact MCLP reduction: drop zero-weight/uncoverable rows, merge identical rows.

    Returns the reduced cover (unique rows x all candidates), their summed weights and,
    per reduced row, one original row index (for reporting).
    """
    cover = _as_cover(cover)
    keep = np.flatnonzero((weights > 0) & (np.diff(cover.indptr) > 0))
    sub = cover[keep]
    if sub.shape[0] == 0:
        return sub, np.zeros(0), keep
    # Hash each row's sorted column set; rows with the same set are one demand class.
    dense_bits = np.packbits(sub.toarray(), axis=1)
    view = np.ascontiguousarray(dense_bits).view(
        np.dtype((np.void, dense_bits.dtype.itemsize * dense_bits.shape[1])))
    _, first, inv = np.unique(view.ravel(), return_index=True, return_inverse=True)
    w = np.bincount(inv, weights=weights[keep], minlength=len(first))
    return sub[first], w, keep[first]


# ---- MCLP -------------------------------------------------------------------------------

def greedy_mclp(cover: np.ndarray | sp.spmatrix, weights: np.ndarray | None, k: int
                ) -> SitingSolution:
    """Pick k sites one by one, each time the one covering the most still-uncovered weight.

    ``cover`` is demand x candidates (bool); ``weights`` the demand still to be covered
    (zero where an existing provider already covers). Ties go to the lower index.
    """
    t0 = time.perf_counter()
    c = _as_cover(cover)
    w = _weights(weights, c.shape[0]).copy()
    _check_k(k, c.shape[1])
    cc = c.tocsc()
    selected: list[int] = []
    gains: list[float] = []
    open_mask = np.ones(c.shape[1], dtype=bool)
    for _ in range(k):
        gain = cc.T.dot(w)  # weight of uncovered demand each candidate reaches
        gain = np.where(open_mask, gain, -1.0)
        j = int(np.argmax(gain))
        selected.append(j)
        gains.append(float(max(gain[j], 0.0)))
        open_mask[j] = False
        rows = cc.indices[cc.indptr[j]:cc.indptr[j + 1]]
        w[rows] = 0.0
    return SitingSolution("greedy", selected, gains, float(sum(gains)), optimal=False,
                          seconds=time.perf_counter() - t0)


def marginal_gains(cover: np.ndarray | sp.spmatrix, weights: np.ndarray | None,
                   selected: list[int]) -> tuple[list[int], list[float]]:
    """Order ``selected`` by what each adds (largest first, given the ones before)."""
    c = _as_cover(cover).tocsc()
    w = _weights(weights, c.shape[0]).copy()
    left = list(selected)
    order: list[int] = []
    gains: list[float] = []
    while left:
        g = [float(w[c.indices[c.indptr[j]:c.indptr[j + 1]]].sum()) for j in left]
        i = int(np.argmax(g))
        j = left.pop(i)
        order.append(j)
        gains.append(g[i])
        w[c.indices[c.indptr[j]:c.indptr[j + 1]]] = 0.0
    return order, gains


def solver(time_limit: float = DEFAULT_TIME_LIMIT, msg: bool = False) -> pulp.LpSolver:
    """HiGHS (bundled with ``highspy``) if PuLP can use it, else CBC; both work offline."""
    for make in (lambda: pulp.HiGHS(msg=msg, timeLimit=time_limit),
                 lambda: pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit)):
        try:
            s = make()
        except Exception:  # pragma: no cover - solver plugin missing
            continue
        if s.available():
            return s
    raise SitingError("Kein MIP-Löser verfügbar (HiGHS/highspy oder CBC für PuLP installieren)")


def _solver_name(s: pulp.LpSolver) -> str:
    return type(s).__name__.replace("PULP_CBC_CMD", "CBC")


def exact_mclp(cover: np.ndarray | sp.spmatrix, weights: np.ndarray | None, k: int, *,
               time_limit: float = DEFAULT_TIME_LIMIT,
               mip_solver: pulp.LpSolver | None = None) -> SitingSolution:
    """Maximal covering location problem, solved to optimality with spopt's MCLP.

    Same inputs as :func:`greedy_mclp`. The instance is reduced exactly first
    (:func:`reduce_cover`); the solution's sites are ordered by marginal gain. If the
    solver stops at ``time_limit`` without proof, ``optimal`` is False and a note says so.
    """
    from spopt.locate import MCLP
    from spopt.locate.base import FacilityModelBuilder

    t0 = time.perf_counter()
    c = _as_cover(cover)
    w = _weights(weights, c.shape[0])
    _check_k(k, c.shape[1])
    red, rw, _ = reduce_cover(c, w)
    if red.shape[0] == 0 or rw.sum() <= 0:
        # Nothing left to cover: any k sites are optimal; report the first k.
        sel = list(range(k))
        return SitingSolution("exact", sel, [0.0] * k, 0.0, optimal=True,
                              seconds=time.perf_counter() - t0, solver="trivial",
                              notes=["Keine unversorgte Nachfrage erreichbar."])
    useful = np.flatnonzero(np.diff(red.tocsc().indptr) > 0)
    if len(useful) <= k:
        # Every useful site can be opened: covering all coverable demand is optimal.
        rest = [j for j in range(c.shape[1]) if j not in set(useful.tolist())]
        chosen = [int(j) for j in useful] + rest[:k - len(useful)]
        order, gains = marginal_gains(c, w, chosen)
        return SitingSolution("exact", order, gains, float(sum(gains)), optimal=True,
                              seconds=time.perf_counter() - t0, solver="trivial")
    sub = red[:, useful].tocsr()
    with _quiet():
        return _solve_mclp(MCLP, FacilityModelBuilder, c, w, k, sub, rw, useful, t0,
                           time_limit, mip_solver)


def _solve_mclp(MCLP: Any, FacilityModelBuilder: Any, c: sp.csr_matrix, w: np.ndarray,  # noqa: N803
                k: int, sub: sp.csr_matrix, rw: np.ndarray, useful: np.ndarray, t0: float,
                time_limit: float, mip_solver: pulp.LpSolver | None) -> SitingSolution:
    notes: list[str] = []
    n_cli, n_fac = sub.shape
    model = pulp.LpProblem("mclp", pulp.LpMaximize)
    mclp = MCLP("mclp", model)
    FacilityModelBuilder.add_facility_integer_variable(mclp, range(n_fac), "x[{i}]")
    FacilityModelBuilder.add_client_integer_variable(mclp, range(n_cli), "y[{i}]")
    x, y = mclp.fac_vars, mclp.cli_vars
    model += pulp.LpAffineExpression([(y[i], float(rw[i])) for i in range(n_cli)])
    for i in range(n_cli):
        cols = sub.indices[sub.indptr[i]:sub.indptr[i + 1]]
        expr = pulp.LpAffineExpression([(x[j], 1.0) for j in cols] + [(y[i], -1.0)])
        model += pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=0.0)
    FacilityModelBuilder.add_facility_constraint(mclp, k)
    mclp.aij = sub.toarray().astype(float)
    s = mip_solver or solver(time_limit)
    with _no_banner():
        status = model.solve(s)
    optimal = pulp.LpStatus.get(status) == "Optimal" and model.sol_status == \
        pulp.LpSolutionOptimal
    vals = np.array([v.value() or 0.0 for v in x])
    if not (vals > 0.5).any():
        raise SitingError(f"MIP-Löser ohne Lösung (Status {pulp.LpStatus.get(status)})")
    chosen = [int(useful[j]) for j in np.argsort(-vals)[:k]]
    order, gains = marginal_gains(c, w, chosen)
    if not optimal:
        notes.append(f"Löser nach {time_limit:g} s ohne Optimalitätsnachweis gestoppt.")
    return SitingSolution("exact", order, gains, float(sum(gains)), optimal=optimal,
                          seconds=time.perf_counter() - t0, solver=_solver_name(s), notes=notes)


def mclp(cover: np.ndarray | sp.spmatrix, weights: np.ndarray | None, k: int, *,
         method: str = "exact", time_limit: float = DEFAULT_TIME_LIMIT
         ) -> tuple[SitingSolution, SitingSolution | None]:
    """``(chosen, greedy)``: the requested method, plus greedy with its gap when exact ran.

    ``method="exact"`` falls back to greedy (noted) if no solver is available.
    """
    g = greedy_mclp(cover, weights, k)
    if method == "greedy":
        return g, None
    if method != "exact":
        raise SitingError(f"Unbekannte Methode {method!r}; erlaubt: exact, greedy")
    try:
        ex = exact_mclp(cover, weights, k, time_limit=time_limit)
    except SitingError as exc:
        if "Löser" not in str(exc):
            raise
        g.notes.append(str(exc))
        return g, None
    g.gap = mclp_gap(ex.objective, g.objective)
    return ex, g


def mclp_gap(exact: float, greedy: float) -> float:
    """Relative shortfall of greedy against the optimum (0 when both cover nothing)."""
    if exact <= 0:
        return 0.0
    return max(0.0, (exact - greedy) / exact)


# ---- p-median -----------------------------------------------------------------------------

def _cap(cost: np.ndarray, current: np.ndarray | None, unreachable: float | None) -> float:
    if unreachable is not None:
        return float(unreachable)
    vals = [cost[np.isfinite(cost)]]
    if current is not None:
        cur = np.asarray(current, dtype=float)
        vals.append(cur[np.isfinite(cur)])
    fin = np.concatenate([v.ravel() for v in vals]) if vals else np.zeros(0)
    return float(2.0 * fin.max()) if len(fin) else 1.0


def _capped(cost: np.ndarray, current: np.ndarray | None, unreachable: float | None
            ) -> tuple[float, np.ndarray, np.ndarray]:
    """The cap, and candidate costs and current times with infinities (and more) set to it.

    Without existing providers every demand point starts at the cap.
    """
    cap = _cap(cost, current, unreachable)
    cc = np.minimum(np.where(np.isfinite(cost), cost, cap), cap)
    base = np.full(cost.shape[0], cap) if current is None else \
        np.minimum(np.where(np.isfinite(current), current, cap), cap)
    return cap, cc, base


def pmedian_objective(cost: np.ndarray, weights: np.ndarray | None, selected: list[int],
                      current: np.ndarray | None = None,
                      unreachable: float | None = None) -> float:
    """Total weighted time when ``selected`` are opened (beside the existing providers)."""
    c = np.asarray(cost, dtype=float)
    w = _weights(weights, c.shape[0])
    cap = _cap(c, current, unreachable)
    best = np.full(c.shape[0], np.inf) if current is None else np.asarray(current, float).copy()
    if selected:
        best = np.minimum(best, c[:, selected].min(axis=1))
    return float((w * np.minimum(np.where(np.isfinite(best), best, cap), cap)).sum())


def greedy_pmedian(cost: np.ndarray, weights: np.ndarray | None, k: int,
                   current: np.ndarray | None = None,
                   unreachable: float | None = None) -> SitingSolution:
    """Add the site that saves the most weighted time, k times (gains = time saved)."""
    t0 = time.perf_counter()
    c = np.asarray(cost, dtype=float)
    w = _weights(weights, c.shape[0])
    _check_k(k, c.shape[1])
    _, cc, best = _capped(c, current, unreachable)
    selected: list[int] = []
    gains: list[float] = []
    for _ in range(k):
        saved = (w[:, None] * np.maximum(best[:, None] - cc, 0.0)).sum(axis=0)
        saved[selected] = -1.0
        j = int(np.argmax(saved))
        selected.append(j)
        gains.append(float(max(saved[j], 0.0)))
        best = np.minimum(best, cc[:, j])
    return SitingSolution("pmedian-greedy", selected, gains, float((w * best).sum()),
                          optimal=False, seconds=time.perf_counter() - t0)


def exact_pmedian(cost: np.ndarray, weights: np.ndarray | None, k: int,
                  current: np.ndarray | None = None, *, unreachable: float | None = None,
                  time_limit: float = DEFAULT_TIME_LIMIT,
                  max_pairs: int = PMEDIAN_MAX_PAIRS,
                  mip_solver: pulp.LpSolver | None = None) -> SitingSolution:
    """p-median with existing providers: minimise total weighted time, spopt's PMedian.

    The existing providers are one extra, always-open site whose cost is ``current``
    (``unreachable`` caps infinite times; default twice the largest finite time). Only
    pairs where a candidate beats the current time get an assignment variable, which
    leaves the optimum unchanged. Above ``max_pairs`` variables the greedy answer is
    returned with a note instead.
    """
    from spopt.locate import PMedian
    from spopt.locate.base import FacilityModelBuilder

    t0 = time.perf_counter()
    c = np.asarray(cost, dtype=float)
    w = _weights(weights, c.shape[0])
    _check_k(k, c.shape[1])
    cap, cc, base = _capped(c, current, unreachable)
    better = (cc < base[:, None]) & (w[:, None] > 0)
    rows = np.flatnonzero(better.any(axis=1))
    n_pairs = int(better[rows].sum())
    if n_pairs > max_pairs:
        g = greedy_pmedian(c, w, k, current, unreachable=cap)
        g.notes.append(f"Zu groß für die exakte Lösung ({n_pairs} Zuordnungen > {max_pairs}):"
                       " schrittweise Näherung.")
        return g
    fixed = float((w * base).sum())
    if len(rows) == 0:
        return SitingSolution("pmedian", list(range(k)), [0.0] * k, fixed, optimal=True,
                              seconds=time.perf_counter() - t0, solver="trivial",
                              notes=["Kein Kandidat verkürzt irgendeinen Weg."])
    with _quiet():
        return _solve_pmedian(PMedian, FacilityModelBuilder, c, w, k, cc, base, better, rows,
                              t0, time_limit, mip_solver)


def _solve_pmedian(PMedian: Any, FacilityModelBuilder: Any, c: np.ndarray,  # noqa: N803
                   w: np.ndarray, k: int, cc: np.ndarray, base: np.ndarray,
                   better: np.ndarray, rows: np.ndarray, t0: float, time_limit: float,
                   mip_solver: pulp.LpSolver | None) -> SitingSolution:
    model = pulp.LpProblem("p-median", pulp.LpMinimize)
    n_fac = c.shape[1]
    pm = PMedian("p-median", model, sp.csr_matrix(better[rows]), float(w[rows].sum()))
    FacilityModelBuilder.add_facility_integer_variable(pm, range(n_fac), "y[{i}]")
    y = pm.fac_vars
    # x[i, j] (i: demand row, j: candidate), z[i]: stays with the existing providers.
    obj: list[tuple[pulp.LpVariable, float]] = []
    assign: dict[tuple[int, int], pulp.LpVariable] = {}
    for r, i in enumerate(rows):
        z = pulp.LpVariable(f"z[{r}]", lowBound=0, upBound=1)
        terms = [(z, 1.0)]
        obj.append((z, float(w[i] * base[i])))
        for j in np.flatnonzero(better[i]):
            v = pulp.LpVariable(f"x[{r}_{j}]", lowBound=0, upBound=1)
            assign[(r, int(j))] = v
            terms.append((v, 1.0))
            obj.append((v, float(w[i] * cc[i, j])))
            model += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0), (y[j], -1.0)]),
                                       pulp.LpConstraintLE, rhs=0.0)
        model += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintEQ,
                                   rhs=1.0)
    model += pulp.LpAffineExpression(obj)
    FacilityModelBuilder.add_facility_constraint(pm, k)
    pm.cli_assgn_vars = assign
    s = mip_solver or solver(time_limit)
    with _no_banner():
        status = model.solve(s)
    optimal = pulp.LpStatus.get(status) == "Optimal" and model.sol_status == \
        pulp.LpSolutionOptimal
    vals = np.array([v.value() or 0.0 for v in y])
    chosen = [int(j) for j in np.argsort(-vals)[:k]]
    # Order by time saved, given the ones before.
    order: list[int] = []
    gains: list[float] = []
    best = base.copy()
    left = list(chosen)
    while left:
        saved = [float((w * np.maximum(best - cc[:, j], 0.0)).sum()) for j in left]
        i = int(np.argmax(saved))
        j = left.pop(i)
        order.append(j)
        gains.append(saved[i])
        best = np.minimum(best, cc[:, j])
    notes = [] if optimal else [f"Löser nach {time_limit:g} s ohne Optimalitätsnachweis "
                                "gestoppt."]
    return SitingSolution("pmedian", order, gains, float((w * best).sum()), optimal=optimal,
                          seconds=time.perf_counter() - t0, solver=_solver_name(s),
                          notes=notes)


def pmedian_gap(exact: float, greedy: float) -> float:
    """Relative excess of greedy's total time over the optimum."""
    if exact <= 0 or not math.isfinite(exact):
        return 0.0
    return max(0.0, (greedy - exact) / exact)


__all__ = [
    "DEFAULT_TIME_LIMIT", "SitingError", "SitingSolution", "coverage_matrix", "exact_mclp",
    "exact_pmedian", "greedy_mclp", "greedy_pmedian", "marginal_gains", "mclp", "mclp_gap",
    "pmedian_gap", "pmedian_objective", "reduce_cover", "solver", "uncovered_weights",
]
