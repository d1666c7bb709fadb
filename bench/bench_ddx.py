"""Timing of the ranking and of the per-vertex conversion (prints figures; asserts nothing).

    python bench/bench_ddx.py [--repeat N]

Reports median and p95 of:
  * rank() on a region-level map (probabilities, order, sides, alerts, questions; the reason sentences
    are written when a candidate's `why` is first read), and with every candidate's reasons;
  * converting a 50k-vertex paint (synthetic skin labels) to region entries, merging them into the
    map and ranking it; and the vertex conversion alone;
  * as baselines in the same run, a plain-Python loop version of the location likelihood and of
    the vertex-to-region conversion, with the ratio to the numpy versions.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import statistics
import time

import numpy as np

from hipviz import ddx
from hipviz.painmap import REGION_IDS, SIDE_NAMES, PainMap, SkinLabels, VertexPaint
from hipviz.vocabulary import vocabulary

MAP = {
    "format": "hipviz-painmap",
    "version": 1,
    "regions": [
        {"region": "lateral_hip_trochanter", "side": "right", "intensity": 7},
        {"region": "lateral_thigh", "side": "right", "intensity": 3},
        {"region": "buttock_lateral", "side": "right", "intensity": 2},
    ],
    "qualities": ["aching", "sharp"],
    "aggravators": ["lying_on_side", "stairs"],
    "relievers": ["rest"],
    "findings": ["trochanter_tenderness"],
    "negative_findings": ["slr_positive"],
    "age": 54,
    "sex": "female",
}


def timeit(fn, repeat: int) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]


def synthetic_skin(n: int = 50_000, seed: int = 0) -> SkinLabels:
    rng = np.random.default_rng(seed)
    v = vocabulary()
    region = rng.integers(-1, len(REGION_IDS), n)
    sided = np.array([r >= 0 and REGION_IDS[r] in v.sided_regions for r in region])
    side = np.where(sided, rng.integers(1, 3, n), 0)
    return SkinLabels(hashlib.sha256(b"bench skin").hexdigest(), region, side, rng.uniform(0.05, 0.3, n))


def python_location_loglik(m: ddx.Model, x: list[float], a: list[float]) -> list[tuple[float, float]]:
    """The location likelihood of Model.location_loglik written as plain Python loops: per slot
    value, per-cluster grouping (strongest for and against in full, the rest at the residual
    weight), cluster cap, location cap, per pattern component; then the mixture over each
    condition's forms (log sum_k w_k exp(L_k))."""
    t = m.vs_rest
    pos = t.loc_pos.tolist()
    neg = t.loc_neg.tolist()
    mirror = ddx._MIRROR.tolist()
    cluster = m.slot_cluster.tolist()
    prm = m.params
    comp = []
    for c in range(len(pos)):
        ll = []
        for h in (0, 1):
            groups: dict[int, list[float]] = {}
            for k in range(len(x)):
                if cluster[k] < 0:
                    continue
                kk = mirror[k] if h else k
                val = pos[c][k] * a[kk] if x[kk] > 0 else ddx.ABSENCE_WEIGHT * neg[c][k]
                groups.setdefault(cluster[k], []).append(val)
            total = 0.0
            for vals in groups.values():
                hi, lo = max(vals), min(vals)
                top = hi if hi > 0 else 0.0
                bottom = lo if lo < 0 else 0.0
                comb = top + bottom + prm.residual_weight * (sum(vals) - top - bottom)
                total += max(-prm.cluster_cap, min(prm.cluster_cap, comb))
            ll.append(max(-prm.location_cap, min(prm.location_cap, total)))
        comp.append((ll[0], ll[1]))
    out = []
    cond, logw = m.comp_cond.tolist(), m.comp_logw.tolist()
    for c in range(len(m.ids)):
        rows = [r for r in range(len(comp)) if cond[r] == c]
        out.append(tuple(math.log(sum(math.exp(logw[r] + comp[r][h]) for r in rows)) for h in (0, 1)))
    return out


def python_to_regions(paint: VertexPaint, labels: SkinLabels) -> dict[tuple[str, str], float]:
    """Vertex -> region conversion as a plain Python loop (area-weighted mean, same threshold)."""
    region, side, area, inten = labels.region.tolist(), labels.side.tolist(), labels.vertex_area_cm2.tolist(), paint.intensity.tolist()
    acc: dict[tuple[int, int], list[float]] = {}
    tot: dict[tuple[int, int], float] = {}
    for i in range(len(region)):
        if region[i] < 0:
            continue
        key = (region[i], side[i])
        tot[key] = tot.get(key, 0.0) + area[i]
        if inten[i] > 0:
            s = acc.setdefault(key, [0.0, 0.0])
            s[0] += area[i]
            s[1] += area[i] * inten[i]
    return {
        (REGION_IDS[r], SIDE_NAMES[s]): round(w / a, 1)
        for (r, s), (a, w) in acc.items()
        if a >= 1.0 or a >= 0.05 * tot[(r, s)]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=300)
    args = ap.parse_args()
    n = args.repeat

    m = ddx.model()
    pm = PainMap.from_dict(MAP)
    print(f"{len(m.ids)} conditions, {len(pm.regions)} painted regions, {n} repeats (times in ms)")

    med, p95 = timeit(lambda: ddx.rank(pm, m), n)
    print(f"rank(), region-level map               median {med:7.3f}  p95 {p95:7.3f}")
    med, p95 = timeit(lambda: m.evidence(pm), n)
    print(f"  evidence only (no reasons/questions) median {med:7.3f}  p95 {p95:7.3f}")
    med, p95 = timeit(lambda: ddx.rank(pm, m).to_dict(), n)
    print(f"  rank() + every candidate's reasons   median {med:7.3f}  p95 {p95:7.3f}")

    labels = synthetic_skin()
    rng = np.random.default_rng(1)
    intensity = np.zeros(labels.vertex_count, dtype=np.float32)
    painted = rng.random(labels.vertex_count) < 0.1
    intensity[painted] = rng.uniform(1, 10, painted.sum())
    paint = VertexPaint(labels.checksum, intensity)
    base = PainMap.from_dict({k: v for k, v in MAP.items() if k != "regions"})

    med, p95 = timeit(lambda: paint.to_regions(labels), n)
    print(f"50k-vertex paint -> regions (bincount) median {med:7.3f}  p95 {p95:7.3f}")
    med_vr, p95_vr = timeit(lambda: ddx.rank(base.with_paint_regions(paint, labels), m), n)
    print(f"50k-vertex convert + merge + rank      median {med_vr:7.3f}  p95 {p95_vr:7.3f}")
    text = base.with_vertex_paint(paint, labels).to_json(indent=None)
    med, p95 = timeit(lambda: PainMap.from_json(text, labels), max(10, n // 10))
    print(f"  parse + validate JSON ({len(text) / 1e6:.1f} MB, {int(painted.sum())} painted) median {med:7.3f}  p95 {p95:7.3f}")

    # baselines in the same run
    x, a = m.encode_location(pm)
    xl, al = x.tolist(), a.tolist()
    np_ll = m.location_loglik(x, a)
    py_ll = python_location_loglik(m, xl, al)
    assert np.allclose(np.array(py_ll), np_ll)
    med_np, _ = timeit(lambda: m.location_loglik(x, a), n)
    med_py, _ = timeit(lambda: python_location_loglik(m, xl, al), max(10, n // 10))
    print(f"location likelihood: numpy {med_np:.4f} vs Python loop {med_py:.3f}  -> {med_py / med_np:.0f}x")

    assert python_to_regions(paint, labels) == {r.key: r.intensity for r in paint.to_regions(labels)}
    med_np, _ = timeit(lambda: paint.to_regions(labels), n)
    med_py, _ = timeit(lambda: python_to_regions(paint, labels), max(5, n // 30))
    print(f"vertex -> regions:   numpy {med_np:.3f} vs Python loop {med_py:.2f}  -> {med_py / med_np:.0f}x")


if __name__ == "__main__":
    main()
