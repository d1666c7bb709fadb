"""Atlas load time: hipviz's loader (trimesh, checksums, PyVista conversion with normals) beside
a baseline in the same run (PyVista's own PLY reader on the same files, no checks, no normals).

    .venv/bin/python bench/bench_atlas.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pyvista as pv

from hipviz.atlas.meshes import Atlas


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    probe = Atlas()
    ids = list(probe.manifest)
    tris = sum(s.triangles for s in probe.manifest.values())
    size = sum((probe.root / s.file).stat().st_size for s in probe.manifest.values())

    def ours():
        a = Atlas()
        for i in ids:
            a.polydata(i)
        a.skin_labels()

    def baseline():
        for i in ids:
            pv.read(probe.root / probe.manifest[i].file)

    warm = Atlas()
    ours_t, base_t = timed(ours, args.repeat), timed(baseline, args.repeat)
    for i in ids:
        warm.polydata(i)
    cached_t = timed(lambda: [warm.polydata(i) for i in ids], args.repeat)
    print(f"atlas: {len(ids)} structures, {tris} triangles, {size / 2**20:.1f} MB of mesh files")
    print(f"hipviz load (verify + trimesh + PyVista + normals + skin labels): {ours_t * 1e3:7.1f} ms")
    print(f"baseline pyvista.read of the same files (no checks, no normals): {base_t * 1e3:7.1f} ms")
    print(f"ratio hipviz / baseline: {ours_t / base_t:.2f}")
    print(f"cached access to all PolyData: {cached_t * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
