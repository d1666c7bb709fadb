"""Vertex normals of a triangle mesh, the one way hipviz computes them (the web viewer does the
same in JavaScript, so what Python reasons about matches what the page shades)."""

from __future__ import annotations

import numpy as np


def vertex_normals(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Outward unit normals of the vertices (area-weighted face normals; 0 where a vertex has no
    area around it)."""
    p = np.asarray(points, np.float64)
    t = np.asarray(triangles, np.int64)
    fn = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
    n = np.zeros_like(p)
    for k in range(3):
        np.add.at(n, t[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
