"""What comparing two maps costs in the app, on the shipped atlas: reading the maps, comparing
them, colouring the body (and the bytes sent to the page), the chart across all of a person's
maps, and leaving the comparison.

Usage: python bench/bench_visits.py [--maps 12] [--repeat 5]
Each map paints a few large brush strokes on the hips, thighs and low back (as a real visit
might); the figures are medians in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maps", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    from hipviz.app.layout import AppContext, HipvizApp
    from hipviz.app.store import Store
    from hipviz.atlas.meshes import load_atlas
    from hipviz.painmap import REGION_IDS

    with tempfile.TemporaryDirectory(prefix="hipviz-bench-visits-") as d:
        ctx = AppContext(load_atlas(), Store(Path(d) / "maps.sqlite3"))
        app = HipvizApp(ctx)
        app.view()
        lab = app.session.labels
        rng = np.random.default_rng(1)
        regions = ["lateral_hip_trochanter", "lateral_thigh", "buttock_upper", "low_back_paraspinal", "posterior_thigh"]
        app.radius.value = 6
        for k in range(args.maps):
            if k:
                app.new_map_btn.clicks += 1
            app.intensity.value = int(rng.integers(2, 10))
            for j, r in enumerate(rng.choice(regions, 3, replace=False)):
                idx = np.flatnonzero(lab.region == REGION_IDS.index(r))
                v = int(rng.choice(idx))
                app.viewer._handle_msg({"type": "dab", "stroke": 10 * k + j, "points": [v]})
                app.viewer._handle_msg({"type": "stroke_end", "stroke": 10 * k + j})
        vis = app.visits
        vis.refresh(chart=False)
        print(f"skin vertices: {lab.vertex_count}, maps: {args.maps}")

        t0 = time.perf_counter()
        sent = app.viewer.bytes_sent
        vis.start()
        first = (time.perf_counter() - t0) * 1000
        print(f"first comparison (reads both maps, compares, colours the body, chart of all maps): {first:.0f} ms, "
              f"{(app.viewer.bytes_sent - sent) / 1024:.0f} KB to the page")
        ids = [m.id for m in vis._maps]

        pairs = iter([(ids[0], ids[-1]), (ids[1], ids[-1])] * (args.repeat + 1))
        vis.earlier.value = ids[1]            # the second pair compared once, then both come from the cache

        def again():
            vis.earlier.value = next(pairs)[0]
        print(f"switching between two pairs already compared (body colours, table, chart marks): {_ms(again, args.repeat):.1f} ms")
        print(f"show the earlier map alone and both again: {_ms(lambda: (setattr(vis.show_btn, 'value', 'before'), setattr(vis.show_btn, 'value', 'both')), args.repeat):.1f} ms")
        from hipviz.app.visits_chart import visits_chart
        pts = vis.points()
        print(f"building the chart of {args.maps} maps (maps read already): {_ms(lambda: visits_chart(pts, ids[0], ids[-1]), args.repeat):.1f} ms")
        vis._read.clear()
        t0 = time.perf_counter()
        vis.points()
        print(f"reading {args.maps} stored maps for the chart: {(time.perf_counter() - t0) * 1000:.0f} ms")
        sent = app.viewer.bytes_sent
        t0 = time.perf_counter()
        vis.leave()
        print(f"leaving (the open map's colours back): {(time.perf_counter() - t0) * 1000:.0f} ms, "
              f"{(app.viewer.bytes_sent - sent) / 1024:.0f} KB to the page")
        ctx.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
