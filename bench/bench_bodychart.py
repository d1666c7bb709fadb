"""The flat body chart: how long projecting the skin takes (once per server process), how much a
page receives when it first shows the chart, and how long mapping a stroke's points to skin
vertices takes (per message, on the server)."""

from __future__ import annotations

import time

import numpy as np

from hipviz.atlas.meshes import load_atlas
from hipviz.bodychart import BodyChart
from hipviz.normals import vertex_normals


def main() -> None:
    atlas = load_atlas()
    pd = atlas.polydata("skin")
    tri = np.asarray(pd.faces).reshape(-1, 4)[:, 1:]
    pts = np.asarray(pd.points, np.float64)
    members = np.flatnonzero(atlas.skin_labels().region >= 0)
    t0 = time.perf_counter()
    chart = BodyChart.build(pts, vertex_normals(pts, tri), members)
    build_ms = (time.perf_counter() - t0) * 1000
    blob = chart.wire_blob()
    print(f"skin: {len(pts)} vertices, {len(members)} on the chart")
    print(f"build (all views): {build_ms:.0f} ms; sent once per page: {len(blob) / 1024:.0f} KiB compressed")
    rng = np.random.default_rng(1)
    for view in chart.views.values():
        rows, cols = view.shape
        inside = np.argwhere(view.cells >= 0)
        msgs = [inside[rng.integers(0, len(inside), 30)] + 0.5 for _ in range(200)]
        t0 = time.perf_counter()
        for m in msgs:
            view.vertices_at(m[:, 1], m[:, 0])
        per = (time.perf_counter() - t0) / len(msgs) * 1000
        print(f"  {view.name:5s} {cols}x{rows} cells, {len(view.visible)} visible vertices; 30 points -> vertices: {per:.2f} ms")


if __name__ == "__main__":
    main()
