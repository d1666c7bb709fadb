"""End-to-end: the referral pattern's hatch is drawn where it belongs pixel by pixel, on every
layout. Its stripes are planes across the body: whether a pixel is ink follows from the point of
the body under it, so stripes must be straight and their edges where the planes cut the skin,
not stepped along the mesh's triangles (which is how colours per vertex drew them)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import LAYOUTS, layout_page, press, use_fake_atlas
from PIL import Image
from test_app_browser import tab

from hipviz.app.overlay import overlay_style

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(use_fake_atlas(), reason="referral patterns need the shipped atlas"),
]

CONDITION = "gtps_gluteal_tendinopathy"
COARSE = 4_000         # points sampled over the whole view, to find the pattern's zone on screen
SAMPLES = 30_000       # points sampled over that zone, on a regular grid (a small phone view shows
                       # only a little of the zone: a grid over the whole view left too few in it)
EDGE_MARGIN = 0.1      # leave out points this close (share of a period) to a stripe's edge

# For each sample point: where the point of skin under it lies in the stripe period (0..1), or
# null where there is no skin, or where it is not well inside the pattern's zone.
PHASES_JS = """
async ([pts, period, threshold]) => {
  const S = window.__hipviz;
  const skin = S.actors.get(S.skinId).actor;
  skin.getProperty().setOpacity(1.0);   // a solid skin: each pixel shows the skin alone
  skin.setPickable(true);
  S.srcDirty = true;
  S.requestRender();
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const w = S.skin.attr.pat.getData(), tris = S.skin.tris, k = 1 / Math.sqrt(3);
  const out = [];
  for (const [x, y] of pts) {
    const hit = await S.pickAt(x, y, true);
    if (!hit || !hit.world || hit.cell < 0) { out.push(null); continue; }
    const c = 3 * hit.cell;
    if (Math.min(w[tris[c]], w[tris[c + 1]], w[tris[c + 2]]) < threshold + 0.2) { out.push(null); continue; }
    const s = (hit.world[0] + hit.world[1] + hit.world[2]) * k * 100 / period;
    out.push(s - Math.floor(s));
  }
  return out;
}
"""


def _grid(zone: tuple[float, float, float, float], n: int) -> list[list[float]]:
    """About n points on a regular grid over the screen rectangle (x0, y0, x1, y1), at most one
    per 1.5 px."""
    x0, y0, x1, y1 = zone
    step = max(1.5, float(np.sqrt((x1 - x0) * (y1 - y0) / n)))
    return [[float(x), float(y)] for y in np.arange(y0, y1, step) for x in np.arange(x0, x1, step)]


def _view(page) -> tuple[np.ndarray, dict]:
    root = page.locator(".hv-root").first
    box = root.bounding_box()
    img = np.asarray(Image.open(io.BytesIO(root.screenshot())).convert("RGB")).astype(float)
    return img, box


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_hatch_follows_the_body_not_the_mesh(browser, server, layout, tmp_path):
    st = overlay_style()["pattern"]
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        tab(page, "Learn", touch)
        press(page.locator(f".hv-cond[data-condition='{CONDITION}']").first, touch)
        page.locator(".hv-root[data-overlay='pattern']").first.wait_for(timeout=20_000)
        tab(page, "Body", touch)                       # the lateral hip, seen from the side
        press(page.get_by_role("button", name="Right side"), touch)
        for _ in range(2):
            press(page.get_by_role("button", name="Zoom in").first, touch)
        page.wait_for_timeout(800)
        box = page.locator(".hv-root").first.bounding_box()
        zone = (box["x"] + 4, box["y"] + 4, box["x"] + box["width"] - 4, box["y"] + box["height"] - 4)
        coarse = _grid(zone, COARSE)
        found = [p for p, ph in zip(coarse, page.evaluate(PHASES_JS, [coarse, st["period_cm"], st["threshold"]])) if ph is not None]
        assert found, f"the pattern is not in view on {layout}"
        (x0, y0), (x1, y1) = np.min(found, axis=0), np.max(found, axis=0)
        pad = float(np.sqrt((zone[2] - zone[0]) * (zone[3] - zone[1]) / COARSE))   # one coarse step
        pts = _grid((max(zone[0], x0 - pad), max(zone[1], y0 - pad), min(zone[2], x1 + pad), min(zone[3], y1 + pad)), SAMPLES)
        phases = page.evaluate(PHASES_JS, [pts, st["period_cm"], st["threshold"]])
        img, box = _view(page)
        page.screenshot(path=str(tmp_path / f"hatch-{layout}.png"))

    scale = img.shape[1] / box["width"]
    lum, ink = [], []
    for (x, y), ph in zip(pts, phases):
        if ph is None or min(ph, abs(ph - st["duty"]), 1 - ph) < EDGE_MARGIN:
            continue
        px, py = int((x - box["x"]) * scale), int((y - box["y"]) * scale)
        lum.append(img[py, px] @ (0.299, 0.587, 0.114))
        ink.append(ph < st["duty"])
    lum, ink = np.array(lum), np.array(ink)
    assert ink.sum() > 100 and (~ink).sum() > 100, f"too little of the pattern in view on {layout}: {len(ink)} points"
    # ink is dark: a pixel is read as ink when it is darker than halfway between the two groups
    cut = (np.median(lum[ink]) + np.median(lum[~ink])) / 2
    agree = ((lum < cut) == ink).mean()
    assert np.median(lum[~ink]) - np.median(lum[ink]) > 40, "the stripes hardly show"
    print(f"{layout}: {len(ink)} points, {agree:.1%} agree")
    assert agree > 0.93, f"{layout}: only {agree:.1%} of the points are ink where the stripe planes say"
