"""The one-page PDF summary: produced for example maps, one page, readable text, not blank."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from hipviz import ddx
from hipviz.atlas.meshes import load_atlas
from hipviz.cli import main
from hipviz.painmap import PainMap, VertexPaint
from hipviz.paths import data_dir
from hipviz import report
from hipviz.report import build_pdf, intensity_rgb, pain_map_images, report_views

pypdf = pytest.importorskip("pypdf")
EXAMPLES = data_dir("pain_maps") / "examples"
MAPS = ["gtps_side_lying", "cauda_equina", "s1_sciatica", "meralgia_belt", "malignancy_history"]


def _text(path) -> str:
    r = pypdf.PdfReader(str(path))
    return " ".join(" ".join(p.extract_text() or "" for p in r.pages).split())


def _short(name: str) -> str:
    i = name.find(" (")
    return name[:i] if i > 0 else name


def _page_png(pdf, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert pngs
    return np.asarray(Image.open(pngs[0]).convert("RGB"))


def _not_blank(img):
    dark = (img.min(axis=2) < 200).mean()
    assert img.std() > 20 and dark > 0.03, f"page looks blank (std {img.std():.1f}, {dark:.1%} inked)"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.mark.parametrize("name", MAPS)
def test_pdf_for_example_maps(name, tmp_path, atlas):
    pm = PainMap.from_file(EXAMPLES / f"{name}.json")
    out = build_pdf(pm, tmp_path / "summary.pdf", atlas=atlas, date="2026-01-31")
    assert out.is_file()
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    assert not report.LAST_LAYOUT["shrunk"], "the page fits without shrinking the text"
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4
    text = _text(out)
    result = ddx.rank(pm)
    assert _short(result.candidates[0].name) in text
    assert " ".join(ddx.DISCLAIMER.split()) in text
    assert "2026-01-31" in text
    if result.alerts:
        first = result.alerts[0]
        title = first.title.upper() if first.level == "emergency" else first.title
        assert title in text
        assert text.index(title) < text.index("Please note") < text.index("Where it hurts")
        for a in result.alerts:
            assert " ".join(a.message.split())[:60] in text
    if not any(a.level == "emergency" for a in result.alerts):
        assert "SEEK MEDICAL CARE NOW" not in text
    for c in result.candidates[:5]:
        assert _short(c.name) in text
    _not_blank(_page_png(out, tmp_path))


def test_vertex_paint_map_and_side_view(tmp_path, atlas):
    labels = atlas.skin_labels()
    v, _ = atlas.arrays("skin")
    d = np.linalg.norm(v - atlas.landmarks["greater_trochanter_lateral_right"], axis=1)
    inten = np.clip(9 - d * 100, 0, None).astype(np.float32)
    inten[inten < 1] = 0
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1, "age": 60})
    pm = pm.with_vertex_paint(VertexPaint(labels.checksum, inten), labels)
    # lateral hip paint faces sideways: the report adds the right side view
    assert report_views(pm, atlas) == ("front", "back", "right")
    front, back, right = pain_map_images(pm, atlas, ("front", "back", "right"))
    painted = np.array(intensity_rgb(np.array([9.0]))[0], float)
    for im in (right,):
        px = np.asarray(im, float)
        assert (np.abs(px - painted).sum(axis=2) < 90).mean() > 0.002, "strong paint visible in the side view"
    out = build_pdf(pm, tmp_path / "vp.pdf", atlas=atlas, date="2026-01-31")
    assert len(pypdf.PdfReader(str(out)).pages) == 1
    assert "Right side" in _text(out) and "cm²" in _text(out)
    _not_blank(_page_png(out, tmp_path))


def test_front_and_back_images_show_the_regions(atlas):
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1, "regions": [
        {"region": "low_back_central", "side": "midline", "intensity": 9},
        {"region": "anterior_thigh", "side": "left", "intensity": 9}]})
    assert report_views(pm, atlas) == ("front", "back")
    front, back = pain_map_images(pm, atlas)
    colour = np.array(intensity_rgb(np.array([9.0]))[0], float)

    def share(im, cols):
        px = np.asarray(im, float)
        w = px.shape[1]
        sub = px[:, int(cols[0] * w): int(cols[1] * w)]
        return (np.abs(sub - colour).sum(axis=2) < 90).mean()

    # front view: the body's left thigh is on the image's right half
    assert share(front, (0.5, 1.0)) > 0.01 and share(front, (0.0, 0.4)) < 0.002
    # back view: the low back is in the middle
    assert share(back, (0.35, 0.65)) > 0.01


def test_empty_map_and_determinism(tmp_path, atlas):
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1})
    a = build_pdf(pm, tmp_path / "a.pdf", atlas=atlas, date="2026-01-31")
    b = build_pdf(pm, tmp_path / "b.pdf", atlas=atlas, date="2026-01-31")
    assert a.read_bytes() == b.read_bytes(), "same map and date give the same PDF"
    assert report.pdf_bytes(pm, atlas=atlas, date="2026-01-31") == a.read_bytes()
    assert "No pain marked" in _text(a)
    with pytest.raises(ValueError):
        build_pdf({"format": "hipviz-painmap"}, tmp_path / "c.pdf", atlas=atlas)


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "summary.pdf"
    assert main(["report", str(EXAMPLES / "hip_oa_groin.json"), "--out", str(out), "--date", "2026-01-31"]) == 0
    assert len(pypdf.PdfReader(str(out)).pages) == 1
    assert "2026-01-31" in _text(out)


@pytest.mark.parametrize("args,needle", [
    (["missing.json"], "cannot read"),
    (["bad.json"], "regions[0].region"),
    (["notjson.json"], "not valid JSON"),
    (["otherskin.json"], "different skin"),
    (["good.json", "--date", "31/01/2026"], "--date"),
    (["good.json", "--out-suffix", ".png"], "--out must be a .pdf"),
    (["good.json", "--out-dir", "nowhere"], "does not exist"),
])
def test_cli_report_bad_input_exits_2(args, needle, tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"format": "hipviz-painmap", "version": 1, "regions": [{"region": "foo", "side": "left", "intensity": 3}]}')
    (tmp_path / "notjson.json").write_text("{not json")
    (tmp_path / "otherskin.json").write_text(
        '{"format": "hipviz-painmap", "version": 1, "vertex_paint": {"skin_sha256": "' + "ab" * 32
        + '", "vertex_count": 10, "vertices": [1], "intensity": [5], "quality": [null]}}')
    shutil.copy(EXAMPLES / "hip_oa_groin.json", tmp_path / "good.json")
    out = tmp_path / "out.pdf"
    argv = [str(tmp_path / args[0])]
    rest = args[1:]
    if rest[:1] == ["--out-suffix"]:
        out = tmp_path / f"out{rest[1]}"
        rest = []
    elif rest[:1] == ["--out-dir"]:
        out = tmp_path / rest[1] / "out.pdf"
        rest = []
    code = main(["report", *argv, "--out", str(out), *rest])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("hipviz report: ") and needle in err and err.count("\n") == 1
    assert not out.exists()


def test_only_risk_factors_ticked_the_summary_says_what_the_list_reflects_and_raises_no_alert(tmp_path, atlas):
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1, "red_flags": ["age_over_50"]})
    text = _text(build_pdf(pm, tmp_path / "age.pdf", atlas=atlas, date="2026-01-31"))
    assert "mostly reflects how common each condition is at this age" in text
    assert "Emergency: seek medical care now" not in text and "Urgent: see a doctor today" not in text
    assert "Worth telling" in text and "Aged over 50" in text
