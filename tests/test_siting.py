"""Location models on small matrices with a known optimum (brute force over all k-sets)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dorfkarte import siting
from dorfkarte.siting import SitingError


def covered_weight(cover: np.ndarray, w: np.ndarray, sel: tuple[int, ...] | list[int]) -> float:
    if not len(sel):
        return 0.0
    return float(w[cover[:, list(sel)].any(axis=1)].sum())


def brute_mclp(cover: np.ndarray, w: np.ndarray, k: int) -> tuple[float, set]:
    best, arg = -1.0, set()
    for sel in itertools.combinations(range(cover.shape[1]), k):
        v = covered_weight(cover, w, sel)
        if v > best:
            best, arg = v, set(sel)
    return best, arg


def greedy_trap() -> tuple[np.ndarray, np.ndarray]:
    """Two villages A (demand 0-2) and B (3-5); a "middle" site 3 reaches parts of both.

    Weights 4, 2, 2 per village. Site 1 covers all of A (8), site 2 all of B (8), site 3
    covers the two large farms plus one house of A (4 + 2 + 4 = 10). Greedy takes site 3
    first (10), then site 2 (+4): 14. The optimum for k = 2 is {1, 2}: 16.
    """
    w = np.array([4, 2, 2, 4, 2, 2], dtype=float)
    cover = np.zeros((6, 4), dtype=bool)
    cover[[0, 3], 0] = True  # site 0: the two farms only (8)
    cover[[0, 1, 2], 1] = True  # site 1: village A (8)
    cover[[3, 4, 5], 2] = True  # site 2: village B (8)
    cover[[0, 1, 3], 3] = True  # site 3: farms + one house of A (10)
    return cover, w


def test_greedy_is_suboptimal_and_exact_finds_brute_force_optimum() -> None:
    cover, w = greedy_trap()
    opt, arg = brute_mclp(cover, w, 2)
    assert arg == {1, 2} and opt == 16.0
    g = siting.greedy_mclp(cover, w, 2)
    assert g.selected[0] == 3  # largest single gain
    assert g.objective == covered_weight(cover, w, g.selected) == 14.0
    ex = siting.exact_mclp(cover, w, 2)
    assert ex.optimal
    assert set(ex.selected) == {1, 2}
    assert ex.objective == pytest.approx(opt)
    # gains in order sum to the objective, first is the larger one
    assert sum(ex.gains) == pytest.approx(ex.objective)
    chosen, greedy = siting.mclp(cover, w, 2, method="exact")
    assert chosen.method == "exact" and greedy is not None
    assert greedy.gap == pytest.approx((16.0 - 14.0) / 16.0)


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_brute_force_and_greedy_never_better(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, k = 30, 8, 3
    pts = rng.uniform(0, 10, (n, 2))
    cand = rng.uniform(0, 10, (m, 2))
    cost = np.hypot(*(pts[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 20, n).astype(float)
    current = rng.uniform(0, 8, n)  # existing provider: some already covered
    thr = 3.0
    demand = siting.uncovered_weights(w, current, thr)
    cover = cost <= thr
    opt, _ = brute_mclp(cover, demand, k)
    ex = siting.exact_mclp(cover, demand, k)
    g = siting.greedy_mclp(cover, demand, k)
    assert ex.optimal
    assert ex.objective == pytest.approx(opt)
    assert covered_weight(cover, demand, ex.selected) == pytest.approx(opt)
    assert g.objective <= ex.objective + 1e-9
    assert g.objective == pytest.approx(covered_weight(cover, demand, g.selected))
    assert siting.mclp_gap(ex.objective, g.objective) == pytest.approx(
        (opt - g.objective) / opt if opt else 0.0)
    # already covered residents are no demand: a site covering only them gains nothing
    assert all(gain >= 0 for gain in ex.gains)


def test_reduce_cover_merges_identical_rows_and_drops_uncoverable() -> None:
    cover = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [1, 1]], dtype=bool)
    w = np.array([1.0, 2.0, 5.0, 0.0, 4.0])
    red, rw, rep = siting.reduce_cover(cover, w)
    rows = {tuple(r): x for r, x in zip(red.toarray().astype(int).tolist(), rw, strict=True)}
    assert rows == {(1, 0): 3.0, (1, 1): 4.0}
    assert len(rep) == 2


def test_mclp_bad_input_messages() -> None:
    cover = np.ones((3, 2), dtype=bool)
    with pytest.raises(SitingError, match="größer als die Zahl der Kandidaten"):
        siting.greedy_mclp(cover, None, 3)
    with pytest.raises(SitingError, match="Gewicht von Nachfragepunkt 2"):
        siting.greedy_mclp(cover, np.array([1.0, np.nan, 1.0]), 1)
    with pytest.raises(SitingError, match="Unbekannte Methode"):
        siting.mclp(cover, None, 1, method="magic")


def test_nothing_left_to_cover_is_trivially_optimal() -> None:
    cover = np.ones((3, 2), dtype=bool)
    ex = siting.exact_mclp(cover, np.zeros(3), 1)
    assert ex.optimal and ex.objective == 0.0


def brute_pmedian(cost: np.ndarray, w: np.ndarray, k: int, current: np.ndarray) -> float:
    return min(siting.pmedian_objective(cost, w, list(sel), current)
               for sel in itertools.combinations(range(cost.shape[1]), k))


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, m, k = 25, 7, 2
    pts = rng.uniform(0, 10, (n, 2))
    cand = rng.uniform(0, 10, (m, 2))
    cost = np.hypot(*(pts[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    cost[rng.random(cost.shape) < 0.1] = np.inf  # some pairs unreachable
    w = rng.integers(1, 10, n).astype(float)
    current = np.hypot(pts[:, 0] - 5, pts[:, 1] - 5)  # one existing provider in the middle
    current[0] = np.inf
    cap = siting._cap(cost, current, None)
    opt = brute_pmedian(cost, w, k, current)
    ex = siting.exact_pmedian(cost, w, k, current)
    assert ex.optimal
    assert ex.objective == pytest.approx(opt)
    assert siting.pmedian_objective(cost, w, ex.selected, current, cap) == pytest.approx(opt)
    g = siting.greedy_pmedian(cost, w, k, current)
    assert g.objective >= ex.objective - 1e-9
    # time saved per added site adds up to the total saving
    base = siting.pmedian_objective(cost, w, [], current)
    assert sum(ex.gains) == pytest.approx(base - ex.objective)


def test_pmedian_falls_back_to_greedy_when_too_large() -> None:
    rng = np.random.default_rng(3)
    cost = rng.uniform(0, 10, (40, 6))
    sol = siting.exact_pmedian(cost, None, 2, None, max_pairs=10)
    assert sol.method == "pmedian-greedy" and not sol.optimal
    assert "Zu groß" in sol.notes[0]


def test_no_highs_banner_on_stdout() -> None:
    """HiGHS prints its banner from C++; neither the CLI nor the server log shows it."""
    import subprocess
    import sys

    code = ("import numpy as np\nfrom dorfkarte import siting\n"
            "rng = np.random.default_rng(1)\n"
            "cover = rng.random((40, 12)) < 0.2\n"
            "r = siting.exact_mclp(cover, rng.random(40), 2)\n"
            "p = siting.exact_pmedian(rng.random((40, 12)), rng.random(40), 2)\n"
            "print('ok', r.solver, round(r.objective, 3))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert "Running HiGHS" not in out.stdout and "Running HiGHS" not in out.stderr
    assert out.stdout.startswith("ok ")
