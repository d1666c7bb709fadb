"""End-to-end: explain the top candidate, explore the anatomy and download the PDF summary, in
headless Chromium against a real `hipviz serve` process (needs the shipped atlas)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import load_test_atlas, open_app, use_fake_atlas
from PIL import Image
from test_app_browser import _shot_dir, paint_at, tab, target, view_image, wait_ranking  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(use_fake_atlas(), reason="explanations need the shipped atlas"),
]


def test_explain_the_top_candidate_and_take_home_the_summary(context, server, requests_log, target, tmp_path, tmp_path_factory):  # noqa: F811
    shots = _shot_dir(tmp_path_factory)
    page = context.new_page()
    errors = open_app(page, server.url, requests_log)
    paint_at(page, target)
    wait_ranking(page)
    page.get_by_role("button", name="Look around").click()
    page.wait_for_timeout(400)
    before = view_image(page)
    top = page.locator(".hv-cand").first
    condition = top.get_attribute("data-condition")
    top.click()
    # the card opens, for the candidate picked
    card = page.locator(".hv-card")
    card.wait_for(timeout=20_000)
    assert card.get_attribute("data-condition") == condition
    assert page.locator(".hv-overlap").get_attribute("data-overlap") not in (None, "0")
    page.wait_for_timeout(1500)
    after = view_image(page)
    changed = (np.abs(after - before).sum(axis=2) > 60).mean()
    assert changed > 0.05, f"the view hardly changed ({changed:.3f})"
    page.screenshot(path=str(shots / "10-explained.png"))
    # one step of the path animation lights the first structure and captions it
    page.get_by_role("button", name="Step ›").click()
    page.locator(".hv-banner", has_text="Step 1 of").wait_for(timeout=10_000)
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "11-path-step1.png"))
    # the caption never covers the navigation pad, on a wide view or a narrow one (a projector)
    for size in ({"width": 1400, "height": 860}, {"width": 1024, "height": 768}):
        page.set_viewport_size(size)
        page.wait_for_timeout(700)
        banner = page.locator(".hv-banner").first.bounding_box()
        for button in page.locator(".hv-nav button").all():
            b = button.bounding_box()
            if b and banner:
                apart = (banner["x"] + banner["width"] <= b["x"] or b["x"] + b["width"] <= banner["x"]
                         or banner["y"] + banner["height"] <= b["y"] or b["y"] + b["height"] <= banner["y"])
                assert apart, (size, banner, b)
    page.set_viewport_size({"width": 1400, "height": 860})
    page.get_by_role("button", name="For clinicians").click()
    page.locator(".hv-card[data-register='clinician']").wait_for(timeout=10_000)
    assert "How a clinician tests for it" in page.locator(".hv-card").inner_text()
    # the PDF summary of this map, made by the local server
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Download summary (PDF)").last.click()
    path = tmp_path / "summary.pdf"
    dl.value.save_as(path)
    from pypdf import PdfReader
    pdf = PdfReader(str(path))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    name = page.locator(".hv-xtitle h2").inner_text().split(" (")[0]
    assert name in text, (name, text[:400])
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    img = np.asarray(Image.open(tmp_path / "page.png").convert("L"))
    assert img.std() > 20 and (img < 128).mean() > 0.01, "the PDF page looks blank"
    # side by side: the textbook view shares the camera; turning one turns the other
    page.get_by_role("button", name="Side by side: patient and textbook").click()
    page.wait_for_function("() => window.__hipvizViews.textbook && window.__hipvizViews.textbook.frames > 0", timeout=60_000)
    box = page.locator(".hv-root").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 90, cy + 10, steps=6)
    page.mouse.up()
    page.wait_for_timeout(500)
    cams = page.evaluate("() => ['main', 'textbook'].map((k) => window.__hipvizViews[k].renderer.getActiveCamera().getPosition())")
    assert np.allclose(cams[0], cams[1], atol=1e-6), cams
    page.screenshot(path=str(shots / "13-side-by-side.png"))
    page.get_by_role("button", name="Side by side: patient and textbook").click()
    # back to painting
    page.get_by_role("button", name="← Back to painting").first.click()
    page.locator(".hv-card").wait_for(state="hidden", timeout=10_000)
    assert page.locator(".hv-cand").count() > 0
    assert not errors
    assert not requests_log.foreign(), requests_log.foreign()


def test_explore_mode_describes_a_structure_on_click_and_search(context, server, tmp_path_factory):
    shots = _shot_dir(tmp_path_factory)
    page = context.new_page()
    open_app(page, server.url)
    tab(page, "Learn")
    page.get_by_placeholder("e.g. piriformis, sciatic, L5").fill("piriformis")
    page.locator(".hv-struct[data-structure='piriformis_right']").click()
    desc = page.locator(".hv-structure[data-structure='piriformis_right']")
    desc.wait_for(timeout=15_000)
    assert "Origin" in desc.inner_text()
    assert page.locator(".hv-refer[data-condition='piriformis_syndrome']").count() == 1
    page.get_by_role("button", name="Dermatomes").click()
    page.locator(".hv-tlabel", has_text="L5").first.wait_for(timeout=10_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(shots / "12-explore-dermatomes.png"))
    # a click on the body (see-through skin) describes what lies under the pointer
    page.get_by_role("button", name="Back to painting").last.click()
    tab(page, "Body")
    page.get_by_role("button", name="See inside").click()
    page.get_by_role("button", name="Back", exact=True).first.click()
    page.wait_for_timeout(800)
    box = page.locator(".hv-root").bounding_box()
    centre = load_test_atlas().arrays("sacrum")[0].mean(axis=0).tolist()
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", centre)   # the sacrum, seen from behind
    assert box["x"] < x < box["x"] + box["width"]
    page.mouse.click(x, y)
    desc = page.locator(".hv-structure")
    desc.wait_for(timeout=15_000)
    assert desc.get_attribute("data-structure") != "skin" and desc.inner_text().strip()
    img = view_image(page)
    assert img.std() > 10
