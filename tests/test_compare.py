"""Visit to visit: per region change in painted area and worst intensity, and the PDF's
"Since last time" section."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hipviz.compare import compare_intensities, compare_maps, region_summary
from hipviz.painmap import REGION_IDS, SkinLabels, PainMap
from hipviz.paths import data_dir

EXAMPLES = data_dir("pain_maps") / "examples"


def _labels() -> SkinLabels:
    """Six vertices: groin left (0, 1), groin right (2, 3), coccyx (4), unlabelled (5); 1 cm² each."""
    g, c = REGION_IDS.index("groin"), REGION_IDS.index("coccyx")
    return SkinLabels("a" * 64, np.array([g, g, g, g, c, -1]), np.array([1, 1, 2, 2, 0, 0]), np.ones(6))


def test_region_summary_area_and_worst():
    s = region_summary([0, 3, 5, 5, 2, 9], _labels())
    assert s == {("groin", "left"): (1.0, 3.0), ("groin", "right"): (2.0, 5.0), ("coccyx", "midline"): (1.0, 2.0)}


def test_compare_intensities_per_region():
    labels = _labels()
    c = compare_intensities([4, 4, 0, 0, 6, 0], [2, 0, 7, 0, 6, 1], labels)
    by = {(r.region, r.side): r for r in c.regions}
    assert by["groin", "left"].status == "better"
    assert (by["groin", "left"].area_change_cm2, by["groin", "left"].worst_change) == (-1.0, -2.0)
    assert by["groin", "right"].status == "new" and by["groin", "right"].worst_after == 7
    assert by["coccyx", "midline"].status == "same"
    assert [r.region for r in c.regions][0] == "groin" and c.regions[0].side == "right"  # worst pain first
    assert (c.total_area_before_cm2, c.total_area_after_cm2) == (3.0, 4.0)  # the unlabelled vertex counts too
    assert (c.worst_before, c.worst_after, c.worst_change) == (6.0, 7.0, 1.0)
    d = c.to_dict()
    assert d["regions"][0]["status"] == "new" and d["total_area_change_cm2"] == 1.0
    gone = compare_intensities([0, 0, 0, 0, 6, 0], np.zeros(6), labels)
    assert [r.status for r in gone.regions] == ["gone"]
    mixed = compare_intensities([0, 5, 0, 0, 0, 0], [8, 2, 0, 0, 0, 0], labels)
    assert mixed.regions[0].status == "worse"  # larger and more intense at the worst point
    mixed = compare_intensities([0, 5, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], labels)
    assert mixed.regions[0].status == "mixed"  # larger but milder


@pytest.mark.parametrize("bad", [np.zeros(5), [0, 0, 0, 0, 0, np.nan], [0, 0, 0, 0, 0, 11]])
def test_compare_refuses_bad_arrays(bad):
    with pytest.raises(ValueError):
        compare_intensities(bad, np.zeros(6), _labels())


def test_compare_maps_on_the_atlas():
    before = PainMap.from_file(EXAMPLES / "gtps_side_lying.json")
    after = PainMap.from_file(EXAMPLES / "l5_mimics_lateral_hip.json")
    c = compare_maps(before, after)
    by = {(r.region, r.side): r for r in c.regions}
    assert by["lateral_hip_trochanter", "right"].status == "gone"
    assert by["lateral_thigh", "right"].worst_before == 3 and by["lateral_thigh", "right"].worst_after == 6
    assert by["lateral_thigh", "right"].status == "worse"
    assert by["lateral_calf", "right"].status == "new" and by["lateral_calf", "right"].area_after_cm2 > 10
    assert c.worst_before == 7 and c.worst_after == 6
    same = compare_maps(before, before)
    assert {r.status for r in same.regions} == {"same"} and same.total_area_change_cm2 == 0


def test_pdf_since_last_time_section(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from hipviz import report
    from hipviz.cli import main

    out = tmp_path / "summary.pdf"
    before = EXAMPLES / "gtps_side_lying.json"
    after = EXAMPLES / "l5_mimics_lateral_hip.json"
    assert main(["report", str(after), "--previous", str(before), "--previous-date", "2026-01-03",
                 "--date", "2026-01-31", "--out", str(out)]) == 0
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1 and not report.LAST_LAYOUT["shrunk"]
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Since last time (2026-01-03)" in text
    assert "worst pain 7 -> 6 /10" in text
    # painted areas in cm² depend on the body model's skin; the changes do not
    assert re.search(r"Side of the hip \(bony point\), right \d+ -> 0 7 -> 0 gone", text), text
    assert re.search(r"Outer thigh, right (\d+) -> \1 3 -> 6 worse", text), text
    assert text.index("Since last time") < text.index("Possible explanations")
    plain = tmp_path / "plain.pdf"
    assert main(["report", str(after), "--date", "2026-01-31", "--out", str(plain)]) == 0
    assert "Since last time" not in " ".join(pypdf.PdfReader(str(plain)).pages[0].extract_text().split())


def test_report_previous_date_needs_previous(tmp_path, capsys):
    from hipviz.cli import main

    assert main(["report", str(EXAMPLES / "gtps_side_lying.json"), "--previous-date", "2026-01-03",
                 "--out", str(tmp_path / "x.pdf")]) == 2
    assert "--previous-date needs --previous" in capsys.readouterr().err
