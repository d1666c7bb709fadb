"""Pain maps painted on an earlier skin (hipviz's MakeHuman skin, before BodyParts3D) open on the
current skin with their paint carried over and their regions unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hipviz.atlas.meshes import load_atlas
from hipviz.painmap import PainMap, PainMapError, VertexPaint, migrate_vertex_paint

STORED = Path(__file__).parent / "data" / "painmap_makehuman_skin.json"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_the_stored_map_was_made_on_another_skin(atlas):
    doc = json.loads(STORED.read_text())
    assert doc["vertex_paint"]["skin_sha256"] != atlas.info("skin").sha256
    with pytest.raises(PainMapError, match="different skin"):
        PainMap.from_json(STORED.read_text(), atlas.skin_labels())


def test_paint_is_carried_over_with_its_regions(atlas):
    labels = atlas.skin_labels()
    old = PainMap.from_json(STORED.read_text())
    migration = atlas.skin_migration(old.vertex_paint.skin_sha256)
    assert migration is not None
    pm = migrate_vertex_paint(old, *migration, labels)
    assert pm.vertex_paint.skin_sha256 == labels.checksum
    # the document's regions, qualities and answers are as they were
    assert [(r.region, r.side, r.intensity) for r in pm.regions] == [(r.region, r.side, r.intensity) for r in old.regions]
    assert pm.aggravators == old.aggravators and pm.age == old.age
    paint = VertexPaint.from_sparse(pm.vertex_paint, labels)
    # the paint lands in the same regions, with a similar area and the same intensities
    new_regions = {(r.region, r.side) for r in paint.to_regions(labels)}
    assert new_regions == {(r.region, r.side) for r in old.regions}
    old_area = {("lateral_hip_trochanter", "right"): 106.6, ("lateral_thigh", "right"): 38.7}
    for key, a in paint.painted_area_cm2(labels).items():
        assert 0.5 * old_area[key] < a < 1.6 * old_area[key], (key, a)
    assert set(np.unique(paint.intensity[paint.intensity > 0])) == {4.0, 7.0}
    # ... and reopens on this skin as an ordinary map
    again = PainMap.from_json(pm.to_json(), labels)
    assert {(r.region, r.side) for r in again.regions} == new_regions


def test_a_map_from_an_unknown_skin_has_no_vertex_map(atlas):
    assert atlas.skin_migration("0" * 64) is None


def test_the_app_opens_the_stored_map_with_its_paint(atlas, tmp_path):
    from hipviz.app.layout import AppContext, HipvizApp
    from hipviz.app.store import Store

    store = Store(tmp_path / "maps.sqlite3")
    ctx = AppContext(atlas, store)
    app = HipvizApp(ctx)
    store.create_map(app.token, STORED.read_text())
    again = HipvizApp(ctx, token=app.token)
    assert "paint was carried over" in again.saved_msg.object
    painted = again.session.painted_indices()
    assert painted.size > 100
    from hipviz.painmap import REGION_IDS

    lab = again.session.labels
    assert set(lab.region[painted].tolist()) <= {REGION_IDS.index("lateral_hip_trochanter"), REGION_IDS.index("lateral_thigh")}
    assert "gtps_gluteal_tendinopathy" in again.last_result.top(3)
    store.close()
