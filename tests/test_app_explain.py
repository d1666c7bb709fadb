"""Explain a candidate, explore a structure, side by side and the PDF, through the app's state
logic without a browser (on the shipped atlas)."""

from __future__ import annotations

import ast
import io
import json
import pathlib

import numpy as np
import pytest

from hipviz.app.explainer import LIT, SKIN_SEE_THROUGH
from hipviz.app.overlay import pattern_zone
from hipviz.knowledge.loader import knowledge
from hipviz.painmap import REGION_IDS

CONDITIONS = list(knowledge())
APP = pathlib.Path(__file__).resolve().parents[1] / "src" / "hipviz" / "app"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from hipviz.app.layout import AppContext
    from hipviz.app.store import Store
    from hipviz.atlas.meshes import load_atlas

    c = AppContext(load_atlas(), Store(tmp_path_factory.mktemp("explain") / "app.sqlite3"))
    yield c
    c.store.close()


@pytest.fixture
def app(ctx):
    from hipviz.app.layout import HipvizApp
    return HipvizApp(ctx)


def paint_right_lateral_hip(app) -> None:
    lab = app.session.labels
    m = np.flatnonzero((lab.region == REGION_IDS.index("lateral_hip_trochanter")) & (lab.side == 2))
    pts = app.session.points[m]
    v = int(m[np.argmin(np.linalg.norm(pts - pts.mean(0), axis=1))])
    app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v]})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 1})


def test_every_condition_selects_with_highlight_pattern_and_path(app, ctx):
    manifest = set(ctx.atlas.manifest)
    geometry = len(ctx.payload.blob) + len(ctx.payload.rest_blob)
    assert app.teach.available
    for cid in CONDITIONS:
        for side in ("right", None):
            sent = app.viewer.bytes_sent
            assert app.teach.select(cid, side), cid
            sel = app.teach.explainer.selection
            # highlight set and path: existing atlas structures, lit in the viewer
            assert sel.highlight and sel.highlight <= manifest, cid
            assert sel.path.steps and set(sel.path.atlas_ids) <= manifest, cid
            for sid in sel.path.atlas_ids:
                assert app.viewer.actors[sid].visible and app.viewer.actors[sid].opacity == 1.0
            assert app.viewer.actors["skin"].opacity == SKIN_SEE_THROUGH
            # the pattern is a layer of its own over the paint: its weights went to the page
            pat = app.viewer.pattern
            assert pat is not None and pattern_zone(pat).sum() > 50, cid
            assert np.allclose(pat, np.clip(sel.weights, 0, 1)), cid
            # the camera moved to the suggested view; the card is open
            assert app.viewer._view == sel.view
            assert app.explain_box.visible and not app.results_box.visible
            assert f"data-condition='{cid}'" in app.teach.card.object
            # only deltas travel: a small fraction of the scene
            delta = app.viewer.bytes_sent - sent
            assert delta < 80_000 and delta < 0.05 * geometry, (cid, delta)


def test_the_path_animates_step_by_step_and_ends_on_the_still_version(app):
    app.teach.select("radiculopathy_L5", "right")
    ex = app.teach.explainer
    n = len(ex.selection.path.steps)
    assert ex.n_frames == n + 2 and ex.frame().zone           # opens on the still version
    app.teach.play()
    assert app.teach.playing and ex.frame_index == 0
    assert app.viewer.pattern is None                          # the zone waits for the end
    assert app.viewer._path_frame == ([], [])
    captions = []
    for k in range(1, n + 2):
        sent = app.viewer.bytes_sent
        app.teach.tick()
        f = ex.frame()
        captions.append(f.caption)
        if k <= n:
            step = ex.selection.path.steps[k - 1]
            assert app.viewer.actors[step.atlas_id].colour != app.ctx.payload.meta["actors"][0]["colour"]
            assert app.viewer._path[1], "the path has line segments to light"
            assert app.viewer._path_frame[1] == [k - 1]
            assert app.viewer.bytes_sent - sent < 2_000 + 0                     # a frame is a few hundred bytes
    assert not app.teach.playing and ex.frame().zone and app.viewer.pattern is not None
    assert captions[0].startswith("Step 1 of")
    assert captions[-1].startswith("Felt in the ")
    # nerve-mediated: segment -> root at its foramen -> nerve
    roles = [s.role for s in ex.selection.path.steps]
    assert roles[0] == "spinal segment" and "foramen" in roles[1] and roles[-1] == "nerve"
    # Step after the still version starts again at the first step; Show all is the still version
    app.teach.step()
    assert ex.frame_index == 1 and app.viewer.banner_text.startswith("Step 1 of")
    app.teach.still()
    assert ex.frame().zone and all(app.viewer.actors[i].colour in (LIT,) for i in ex.selection.path.atlas_ids)


def test_deselect_returns_to_the_painting_view(app):
    paint_right_lateral_hip(app)
    before_actors = {k: a.as_dict() for k, a in app.viewer.actors.items()}
    before_skin = app.viewer.skin_rgb.copy()
    # the person turned the body by hand (no preset): that is the view to come back to
    turned = {"position": [1.1, 1.6, 1.2], "focal_point": [0.0, 0.0, 0.9], "view_up": [0.0, 0.0, 1.0]}
    app.viewer._handle_msg({"type": "camera", **turned})
    app.teach.select("gtps_gluteal_tendinopathy", "right")
    assert app.viewer.pattern is not None                # the pattern is drawn over the paint
    assert app.viewer.camera != turned                  # explaining turned the camera to the sources
    app.teach.deselect()
    assert {k: a.as_dict() for k, a in app.viewer.actors.items()} == before_actors
    assert np.array_equal(app.viewer.skin_rgb, before_skin) and app.viewer.pattern is None
    assert app.viewer._path[1] == [] and app.viewer.camera == turned
    assert app.results_box.visible and not app.explain_box.visible


def test_overlap_with_the_paint_and_paint_under_the_hatch(app):
    paint_right_lateral_hip(app)
    app.ranking.click(app.last_result.candidates[0].condition)          # the top candidate
    sel = app.teach.explainer.selection
    assert sel.condition == "gtps_gluteal_tendinopathy" and sel.side == "right"
    o = app.teach.last_overlap
    assert o.painted_cm2 > 0 and 0 < o.overlap_cm2 <= o.painted_cm2 and o.share_of_painted > 0.5
    html = app.teach.overlap.object
    assert f"{o.overlap_cm2:.0f} cm²" in html and f"{100 * o.share_of_pattern:.0f}%" in html
    # the paint stays as it is under the hatch: the page draws the pattern over it
    painted = app.session.painted_indices()
    assert np.intersect1d(painted, np.flatnonzero(pattern_zone(app.viewer.pattern))).size
    assert np.array_equal(app.viewer.skin_rgb[painted], app.session.colours(painted))
    # painting more while explaining keeps the hatch and updates the overlap
    lab = app.session.labels
    m = np.flatnonzero((lab.region == REGION_IDS.index("lateral_thigh")) & (lab.side == 2))
    app.viewer._handle_msg({"type": "dab", "stroke": 2, "points": [int(m[len(m) // 2])]})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 2})
    assert app.teach.last_overlap.painted_cm2 > o.painted_cm2
    assert app.viewer.pattern is not None


def test_card_registers_and_content(app):
    app.teach.select("piriformis_syndrome", None)
    patient = app.teach.card.object
    app.teach.register.value = "clinician"
    clinician = app.teach.card.object
    assert patient != clinician and "data-register='clinician'" in clinician
    for part in ("In short", "What is going on", "How a clinician tests for it", "Treatment: what the trials found",
                 "Warning signs", "References"):
        assert part in clinician, part
    assert "sensitivity" in clinician or "LR+" in clinician
    assert "evidence" in clinician.lower()
    assert "<a " not in clinician                                   # nothing to fetch from the card


def test_explore_a_structure_by_click_and_by_search(app):
    app.viewer._handle_msg({"type": "pick", "structure": "piriformis_right", "cell": 0, "point": 0})
    assert app.teach.mode == "explore" and app.explore_box.visible
    html = app.teach.structure.object
    assert "Piriformis" in html and "Origin" in html and "S1" in html
    assert "piriformis_syndrome" in [it["id"] for it in app.teach.structure_refers.items]
    assert app.viewer.actors["piriformis_right"].opacity == 1.0
    assert app.viewer.pattern is not None                         # the pain it can refer, on the skin
    app.teach.find_structure.value_input = "sciatic"
    hits = [it["id"] for it in app.teach.structure_hits.items]
    assert hits[:2] == ["sciatic_nerve_left", "sciatic_nerve_right"]
    app.teach.structure_hits.click("sciatic_nerve_left")
    assert "Sciatic nerve" in app.teach.structure.object
    # from a structure to a condition it can cause
    app.teach.structure_refers.click(app.teach.structure_refers.items[0]["id"])
    assert app.teach.mode == "explain"
    # clicking the skin never opens explore; in explain mode a click keeps the explanation
    app.viewer._handle_msg({"type": "pick", "structure": "femur_left", "cell": 0, "point": 0})
    assert app.teach.mode == "explain"
    app.teach.deselect()
    app.viewer._handle_msg({"type": "pick", "structure": "skin", "cell": 0, "point": 0})
    assert app.teach.mode == "results"


def test_searchable_condition_list(app):
    assert len(app.teach.condition_hits.items) == len(CONDITIONS)
    app.teach.find_condition.value_input = "sciatica"
    ids = [it["id"] for it in app.teach.condition_hits.items]
    assert ids and all(i in CONDITIONS for i in ids)
    app.teach.condition_hits.click(ids[0])
    assert app.teach.explainer.selection.condition == ids[0]


def test_dermatome_and_nerve_overlays_with_labels(app):
    base = app.viewer.skin_rgb.copy()
    app.teach.skin_map_btn.value = "dermatome"
    labels = app.viewer._labels
    texts = {x["text"] for x in labels}
    assert {"L4", "L5", "S1"} <= texts
    assert all(len(x["xyz"]) == 3 and abs(np.linalg.norm(x["n"]) - 1) < 1e-3 for x in labels)
    # the territories are a layer of their own (the paint is untouched): codes and slots per vertex
    t = app.viewer.territories
    assert t is not None and (t.codes >= 0).mean() > 0.3
    assert np.array_equal(app.viewer.skin_rgb, base)
    app.teach.skin_map_btn.value = "nerve"
    assert any("cutaneous" in x["text"].lower() for x in app.viewer._labels)
    assert app.viewer.territories is not t
    app.teach.skin_map_btn.value = ""
    assert app.viewer._labels == [] and app.viewer.territories is None


def test_side_by_side_links_a_textbook_view(app):
    paint_right_lateral_hip(app)
    app.teach.select("gtps_gluteal_tendinopathy", "right")
    app.teach.side_btn.value = True
    tb = app.teach.textbook
    assert tb is not None and tb in app.view_area.objects and tb.link == app.viewer.link == "main"
    assert {k: a.as_dict() for k, a in tb.actors.items()} == {k: a.as_dict() for k, a in app.viewer.actors.items()}
    w = app.teach.explainer.selection.weights
    assert np.any(tb.skin_rgb[w >= 0.3] != tb.skin_base)          # the textbook pattern
    assert not np.any(tb.skin_rgb[w == 0] != tb.skin_base)
    assert app.viewer.pattern is None                              # the patient's view: the paint alone
    painted = app.session.painted_indices()
    assert np.array_equal(app.viewer.skin_rgb[painted], app.session.colours(painted))
    app.teach.step()
    assert tb._path_frame == app.viewer._path_frame
    app.teach.side_btn.value = False
    assert app.teach.textbook is None and len(app.view_area.objects) == 1


def test_presenter_mode_tucks_the_tools_away(app):
    app.view()
    app.teach.presenter.value = True
    assert not app.tools.visible and app.viewer.presenter and "presenter" in app.results.css_classes
    app.teach.presenter.value = False
    assert app.tools.visible and not app.viewer.presenter


def test_pdf_summary_of_the_current_map(app):
    from pypdf import PdfReader

    paint_right_lateral_hip(app)
    data = app.pdf_file().getvalue()
    assert data.startswith(b"%PDF")
    pdf = PdfReader(io.BytesIO(data))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert app.last_result.candidates[0].name.split(" (")[0] in text


def test_my_maps_gives_the_map_as_a_fhir_bundle(app):
    from hipviz.fhir import from_bundle_json

    paint_right_lateral_hip(app)
    app.q_aggravators.value = ["lying_on_side"]
    data = app.fhir_file().getvalue()
    bundle = json.loads(data)
    assert bundle["resourceType"] == "Bundle"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"QuestionnaireResponse", "Observation", "DocumentReference"} <= kinds
    back = from_bundle_json(data)
    assert back.aggravators == ["lying_on_side"]
    assert {(r.region, r.side) for r in back.regions} == {(r.region, r.side) for r in app.session.painmap().regions}


def test_state_modules_are_free_of_ui_imports():
    for name in ("overlay.py", "explainer.py", "cards.py", "session.py", "scene.py"):
        tree = ast.parse((APP / name).read_text())
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m.split(".")[0] for m in mods} & {"panel", "bokeh", "param", "pyvista", "vtk"}, name


def test_presenter_keys_step_through_the_path(app):
    paint_right_lateral_hip(app)
    app.teach.select("radiculopathy_L5", "right")
    ex = app.teach.explainer
    assert ex.frame_index == ex.n_frames - 1                         # opens on the still version
    app.viewer._handle_msg({"type": "key", "action": "next"})        # → wraps to step 1
    assert ex.frame_index == 1 and app.viewer.banner_text.startswith("Step 1 of")
    app.viewer._handle_msg({"type": "key", "action": "next"})
    assert ex.frame_index == 2
    app.viewer._handle_msg({"type": "key", "action": "previous"})
    assert ex.frame_index == 1
    app.viewer._handle_msg({"type": "key", "action": "previous"})    # from step 1 back to the still version
    assert ex.frame_index == ex.n_frames - 1


def test_close_ups_set_their_layers_and_the_next_view_restores_them(app, ctx):
    from hipviz.render.views import close_ups, views

    labels = [b.label for b in app.teach.view_btns]
    for name in close_ups():
        assert views()[name].label in labels
    layers_before = list(app.layer_toggle.value)
    app.teach.close_up("lateral_hip")
    assert app.viewer._view == "lateral_hip"
    assert set(app.layer_toggle.value) == set(views()["lateral_hip"].layers)
    assert not app.viewer.actors["skin"].visible
    itb = app.viewer.actors["iliotibial_tract_right"]
    assert itb.visible and itb.opacity == views()["lateral_hip"].actors["iliotibial_tract_right"]["opacity"]
    assert app.viewer.actors["trochanteric_bursa_right"].visible and app.viewer.actors["gluteus_medius_right"].visible

    app.teach.close_up("deep_gluteal")
    assert app.viewer._view == "deep_gluteal"
    for sid in ("piriformis_right", "sciatic_nerve_right", "gemellus_superior_right", "gemellus_inferior_right",
                "obturator_internus_right", "quadratus_femoris_right"):
        assert app.viewer.actors[sid].visible, sid
    assert not app.viewer.actors["gluteus_maximus_right"].visible
    assert not app.viewer.actors["iliotibial_tract_right"].visible

    # an ordinary view button: the layers from before the first close-up, default opacities
    back = next(b for b in app.teach.view_btns if b.label == views()["posterior"].label)
    back.clicks += 1
    assert app.viewer._view == "posterior"
    assert list(app.layer_toggle.value) == layers_before
    assert app.viewer.actors["skin"].visible
    assert app.viewer.actors["iliotibial_tract_right"].opacity == 1.0


def test_paint_outside_the_mapped_areas_is_shown_apart_and_the_areas_add_up(app):
    """A stroke in a side view can catch the hand lying beside the hip: that paint is in the total,
    in no region and not in the ranking, so the panel lists it on its own line."""
    lab = app.session.labels
    hip = np.flatnonzero((lab.region == REGION_IDS.index("lateral_hip_trochanter")) & (lab.side == 2))
    outside = np.flatnonzero(lab.region < 0)
    assert outside.size
    app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [int(hip[len(hip) // 2]), int(outside[len(outside) // 2])]})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 1})
    s = app.session.summary()
    assert s["outside_cm2"] > 0
    assert abs(sum(r["area_cm2"] for r in s["regions"]) + s["outside_cm2"] - s["total_cm2"]) < 0.01
    assert "Outside the hip, back and leg areas" in app.painted.object
