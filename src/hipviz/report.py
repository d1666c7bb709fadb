"""A one-page A4 PDF summary of a pain map, made locally (reportlab + offscreen PyVista).

`build_pdf(painmap, out_path, atlas=None, date=None)` writes the page and returns its path:
title and date, any alert first in a box titled by its level (emergency: "Emergency: seek medical
care now" in red; urgent: "Urgent: see a doctor today"; soon: "See a doctor soon"), the
educational disclaimer, front and back images of the pain map (skin coloured by painted
intensity, bones faintly visible), painted area, regions with intensities, qualities, the
questionnaire answers in plain words, the risk factors worth telling a clinician, the top
candidates with their match (band, with the probability in small print) and main reasons (test
figures say "published" or "estimate"), and the questions that would help most.

With ``previous`` (an earlier map of the same person) the page gains a "Since last time" section:
the change in painted area and worst intensity, in total and per region (hipviz.compare).

`pdf_bytes(...)` returns the same page as bytes; `pain_map_images(painmap, atlas, views)` gives
the images (PIL), and `report_views` says which views a map needs: front and back, plus a side
view when much of the paint faces sideways (lateral hip and thigh). `summary_lines` is the
page's content as plain data.
Content is deterministic apart from the date: the PDF is written with reportlab's invariant
mode (no creation time or random document id), and renders use fixed settings.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from hipviz.painmap import PainMap
from hipviz.vocabulary import vocabulary

__all__ = [
    "INTENSITY_STOPS", "VIEWS", "LAST_LAYOUT", "intensity_rgb", "report_views", "pain_map_images", "build_pdf",
    "pdf_bytes", "summary_lines", "since_text",
]

#: Intensity (0-10) -> colour: pale yellow for mild, through orange and red, to dark red.
INTENSITY_STOPS = (
    (0.0, (255, 237, 160)),
    (3.0, (254, 190, 80)),
    (6.0, (240, 90, 40)),
    (8.0, (205, 30, 35)),
    (10.0, (128, 0, 38)),
)
#: Unpainted skin: a light neutral that any paint stands out against.
UNPAINTED = (228, 224, 218)
BONE_ALPHA = 0.22  # how strongly the bones show through the skin
_BG = (0, 255, 0)  # render background used to find the body's silhouette (never on the body)
#: What the last `build_pdf` chose: image height (mm), views, and whether the page had to be
#: shrunk to fit (fonts scaled down; the layout aims to avoid it).
LAST_LAYOUT: dict = {}
TOP_CANDIDATES = 5
REASONS_PER_CANDIDATE = 2


def intensity_rgb(intensity: np.ndarray) -> np.ndarray:
    """uint8 RGB per vertex for painted intensities (0 = unpainted)."""
    x = np.asarray(intensity, float)
    stops = np.array([s for s, _ in INTENSITY_STOPS])
    cols = np.array([c for _, c in INTENSITY_STOPS], float)
    rgb = np.stack([np.interp(x, stops, cols[:, i]) for i in range(3)], axis=1)
    rgb[x <= 0] = UNPAINTED
    return np.round(rgb).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def _render(atlas, layers, directions, skin_rgb, size):
    """Images and body masks from one offscreen scene, one per camera direction (parallel
    projection framing the whole skin)."""
    from hipviz.render.offscreen import scene

    w, h = size
    p = scene(atlas, layers=layers, skin_opacity=1.0, window=(w, h), skin_rgb=skin_rgb)
    try:
        p.set_background(tuple(c / 255 for c in _BG))
        v, _ = atlas.arrays("skin")
        lo, hi = v.min(0).astype(float), v.max(0).astype(float)
        centre = (lo + hi) / 2
        p.enable_parallel_projection()
        out = []
        for direction in directions:
            p.camera.focal_point = tuple(centre)
            p.camera.position = tuple(centre + np.asarray(direction, float) * 3.0)
            p.camera.up = (0.0, 1.0, 0.0)
            p.camera.parallel_scale = float(hi[1] - lo[1]) / 2 * 1.02
            p.reset_camera_clipping_range()
            p.render()
            img = np.asarray(p.screenshot(return_img=True))[..., :3].copy()
            out.append((img, ~np.all(img == np.array(_BG, np.uint8), axis=-1)))
        return out
    finally:
        p.close()


#: Report views: name -> (camera direction from the body, caption, the body's sides left-to-right).
VIEWS = {
    "front": ((1.0, 0.0, 0.0), "Front", ("Right", "Left")),
    "back": ((-1.0, 0.0, 0.0), "Back", ("Left", "Right")),
    "right": ((0.0, 0.0, 1.0), "Right side", ("Back", "Front")),
    "left": ((0.0, 0.0, -1.0), "Left side", ("Front", "Back")),
}
#: A side view is added when at least this share of one side's painted area faces sideways
#: (the front and back views show lateral hip and thigh paint only edge-on).
SIDE_VIEW_SHARE = 0.25


def report_views(painmap: PainMap, atlas=None) -> tuple[str, ...]:
    """The views a report shows: front and back, plus the side view of each side whose paint
    faces mostly sideways (lateral hip, outer thigh)."""
    from hipviz.painmap import SIDE_CODES
    from hipviz.referral import _atlas, painted_intensity

    a = _atlas(atlas)
    painted = painted_intensity(painmap, a) > 0
    if not painted.any():
        return ("front", "back")
    n = np.asarray(a.trimesh("skin").vertex_normals)
    area = a.skin_vertex_area_cm2
    side = np.asarray(a.skin_label_arrays["side"])
    out = ["front", "back"]
    for name in ("right", "left"):
        d = np.asarray(VIEWS[name][0])
        on = painted & (side == SIDE_CODES[name])
        total = area[on].sum()
        if total > 0 and area[on & (n @ d > 0.7)].sum() >= SIDE_VIEW_SHARE * total:
            out.append(name)
    return tuple(out)


def pain_map_images(painmap: PainMap, atlas=None, views=("front", "back"), size: tuple[int, int] = (440, 960)):
    """PIL images of the pain map, one per view name (see `VIEWS`), in order: skin coloured by
    painted intensity (opaque), the bones composited faintly over the body, cropped to the body
    on a white ground. In the front view the body's right is on the image's left."""
    from PIL import Image

    from hipviz.referral import _atlas, painted_intensity

    a = _atlas(atlas)
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        raise ValueError(f"unknown report view(s) {unknown}; choose from {', '.join(VIEWS)}")
    rgb = intensity_rgb(painted_intensity(painmap, a))
    directions = [VIEWS[name][0] for name in views]
    skins = _render(a, ("skin",), directions, rgb, size)
    bone_imgs = _render(a, ("bones",), directions, None, size)
    out = []
    for (skin, smask), (bones, bmask) in zip(skins, bone_imgs):
        img = np.where(smask[..., None], skin, 255).astype(float)
        both = smask & bmask
        img[both] = img[both] * (1 - BONE_ALPHA) + bones[both] * BONE_ALPHA
        ys, xs = np.nonzero(smask)
        pad = 4
        crop = img[max(ys.min() - pad, 0): ys.max() + pad + 1, max(xs.min() - pad, 0): xs.max() + pad + 1]
        out.append(Image.fromarray(np.round(crop).astype(np.uint8)))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

_REPLACE = {"≥": ">=", "≤": "<=", "→": "->", "←": "<-", "−": "-", "≈": "~", "×": "x", "…": "...", "‑": "-"}


def _plain(text: str) -> str:
    """Text the standard PDF fonts can show (Windows-1252), with look-alikes for the rest."""
    s = "".join(_REPLACE.get(ch, ch) for ch in str(text))
    return s.encode("cp1252", "replace").decode("cp1252")


def _x(text: str) -> str:
    return escape(_plain(text))


def _pct(score: float) -> str:
    p = 100 * score
    return "<1%" if p < 1 else f"{p:.0f}%"


#: Box colour of an alert by level.
ALERT_COLOURS = {"emergency": "#b3001b", "urgent": "#c25400", "soon": "#8a6d00"}


def _short(name: str) -> str:
    i = name.find(" (")
    return name[:i] if i > 0 else name


def _first_sentences(text: str, n: int = 2, limit: int = 260) -> str:
    """Up to `n` whole sentences within `limit` characters (at least the first, cut at a word)."""
    sentences = [x.strip() for x in text.replace("\n", " ").split(". ") if x.strip()]
    out = ""
    for x in sentences[:n]:
        x = x if x.endswith((".", "!", "?")) else x + "."
        if out and len(out) + 1 + len(x) > limit:
            break
        out = f"{out} {x}".strip()
    if len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "..."
    return out


def _risk() -> tuple[str, ...]:
    from hipviz import triage

    return triage.rules().risk_factors


def _answers(pm: PainMap) -> list[tuple[str, str]]:
    v = vocabulary()
    rows = []
    who = []
    if pm.age is not None:
        who.append(f"{pm.age} years")
    if pm.sex is not None:
        who.append(pm.sex)
    if who:
        rows.append(("About you", ", ".join(who)))
    for label, items, names in (
        ("Pain feels", pm.qualities, v.qualities),
        ("Worse with", pm.aggravators, v.aggravators),
        ("Eased by", pm.relievers, v.relievers),
        ("Warning signs ticked", [f for f in pm.red_flags if f not in _risk()], v.red_flags),
        ("Worth telling your clinician", [f for f in pm.red_flags if f in _risk()], v.red_flags),
        ("Examination: found", pm.findings, v.findings),
        ("Examination: not found", pm.negative_findings, v.findings),
    ):
        if items:
            rows.append((label, "; ".join(names[i] for i in items)))
    return rows


def _regions(pm: PainMap) -> list[tuple[str, float]]:
    v = vocabulary()
    out = []
    for r in sorted(pm.regions, key=lambda r: (-r.intensity, v.regions[r.region])):
        side = "" if r.side == "midline" else f", {r.side}"
        out.append((f"{v.regions[r.region]}{side}", float(r.intensity)))
    return out


#: Rows of the "Since last time" table (the regions with the worst pain first).
SINCE_ROWS = 8


def summary_lines(painmap: PainMap, result=None, atlas=None, previous: PainMap | None = None) -> dict:
    """The report's content as plain data (what the PDF shows, without layout).

    With ``previous``, ``since_last_time`` is the comparison with that earlier map
    (`hipviz.compare.MapComparison.to_dict`), else None."""
    from hipviz import ddx
    from hipviz.referral import _atlas, painted_intensity

    a = _atlas(atlas)
    res = result if result is not None else ddx.rank(painmap)
    inten = painted_intensity(painmap, a)
    area = float(a.skin_vertex_area_cm2[inten > 0].sum())
    cands = []
    for c in res.candidates[:TOP_CANDIDATES]:
        cands.append({
            "condition": c.condition, "name": _short(c.name), "clinician_name": c.clinician_name,
            "probability": c.probability, "band": c.band, "band_label": c.band_label, "source_kind": c.source_kind,
            "side": c.side, "urgency": c.urgency, "promoted": c.promoted, "subtype_of": c.subtype_of,
            "reasons": [r.text for r in c.why[:REASONS_PER_CANDIDATE]],
        })
    return {
        "alerts": [{"level": al.level, "title": al.title, "message": al.message} for al in res.alerts],
        "worth_telling": [w.label for w in res.worth_telling],
        "something_else": res.something_else,
        "painted_area_cm2": area,
        "regions": _regions(painmap),
        "answers": _answers(painmap),
        "candidates": cands,
        "ask_next": [q.question for q in res.ask_next],
        "disclaimer": res.disclaimer,
        "since_last_time": _since(previous, painmap, a),
    }


def _since(previous: PainMap | None, painmap: PainMap, atlas) -> dict | None:
    if previous is None:
        return None
    if not isinstance(previous, PainMap):
        raise ValueError(f"previous must be a PainMap, not {type(previous).__name__}")
    from hipviz.compare import compare_maps

    return compare_maps(previous, painmap, atlas).to_dict()


def _signed(x: float, digits: int = 0) -> str:
    s = f"{x:+.{digits}f}"
    return "no change" if float(s) == 0 else s


def since_text(since: dict) -> str:
    """One sentence on the change in total painted area and worst pain (plain text)."""
    return (f"Painted area {since['total_area_before_cm2']:.0f} -> {since['total_area_after_cm2']:.0f} cm² "
            f"({_signed(since['total_area_change_cm2'])}); worst pain {since['worst_before']:g} -> "
            f"{since['worst_after']:g} /10 ({_signed(since['worst_change'], 1)}).")


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def build_pdf(painmap: PainMap, out_path, atlas=None, date: _dt.date | str | None = None,
              previous: PainMap | None = None, previous_date: _dt.date | str | None = None) -> Path:
    """Write the one-page A4 summary of `painmap` to `out_path` and return the path.

    ``date``: a date or text to print (default: today). ``previous``: an earlier map of the same
    person, for a "Since last time" section (``previous_date`` is printed with it). Raises
    ValueError if the map is not a PainMap; images come from offscreen renders of the atlas."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Flowable, Image, KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
    )

    from hipviz.explain import card
    from hipviz.referral import _atlas

    if not isinstance(painmap, PainMap):
        raise ValueError(f"build_pdf needs a PainMap, not {type(painmap).__name__}")
    a = _atlas(atlas)
    out_path = Path(out_path)
    if date is None:
        date = _dt.date.today()
    date_text = date.isoformat() if isinstance(date, _dt.date) else str(date)
    info = summary_lines(painmap, atlas=a, previous=previous)

    ink = colors.HexColor("#1d1d1f")
    grey = colors.HexColor("#5b5b60")
    rule = colors.HexColor("#d0d0d4")
    base = ParagraphStyle("base", fontName="Helvetica", fontSize=8.6, leading=10.6, textColor=ink)
    small = ParagraphStyle("small", parent=base, fontSize=7.6, leading=9.2, textColor=grey)
    h1 = ParagraphStyle("h1", parent=base, fontName="Helvetica-Bold", fontSize=16, leading=19)
    h2 = ParagraphStyle("h2", parent=base, fontName="Helvetica-Bold", fontSize=10.5, leading=13, spaceBefore=3, spaceAfter=2)
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT, textColor=grey)
    alert_style = ParagraphStyle("alert", parent=base, fontSize=9.4, leading=11.8, textColor=colors.white)
    cell = ParagraphStyle("cell", parent=base, fontSize=8.2, leading=9.8)
    cell_b = ParagraphStyle("cellb", parent=cell, fontName="Helvetica-Bold")

    page_w, page_h = A4
    margin = 13 * mm
    pad = 6  # the page frame's own padding on each side (reportlab's default)
    width = page_w - 2 * margin - 2 * pad
    story: list = []

    head = Table(
        [[Paragraph("hipviz - pain map summary", h1), Paragraph(f"Date: {_x(date_text)}", right)]],
        colWidths=[width * 0.7, width * 0.3],
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    story.append(head)

    # 1. Alerts first, in a red box.
    for al in info["alerts"]:
        title = al["title"].upper() if al["level"] == "emergency" else al["title"]
        colour = colors.HexColor(ALERT_COLOURS[al["level"]])
        box = Table([[Paragraph(f"<b>{_x(title)}</b><br/>{_x(al['message'])}", alert_style)]], colWidths=[width])
        box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colour), ("BOX", (0, 0), (-1, -1), 1.2, colour),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 7), ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                                 ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        story += [Spacer(1, 3), box]

    # 2. Disclaimer.
    disc = Table([[Paragraph(f"<b>Please note:</b> {_x(info['disclaimer'])}", small)]],
                 colWidths=[width])
    disc.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f2f2f4")),
                              ("LEFTPADDING", (0, 0), (-1, -1), 6), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                              ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    story += [Spacer(1, 4), disc, Spacer(1, 5)]

    # 3. Images (left) and the map in words (right).
    view_names = report_views(painmap, a)
    images = pain_map_images(painmap, a, view_names)
    pngs = []
    for im in images:
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        pngs.append(buf.getvalue())
    head_story = story
    frame_h = page_h - 2 * margin - 2 * pad

    def body(img_h: float, wide: bool) -> list | None:
        """The page below the disclaimer: images beside the text column, or (wide) images in
        a full-width row with the two text columns below."""
        story: list = []

        def pil_flowable(im, data):
            return Image(io.BytesIO(data), width=img_h * im.width / im.height, height=img_h)

        flows = [pil_flowable(im, data) for im, data in zip(images, pngs)]
        img_w = max(f.drawWidth for f in flows)
        cap = ParagraphStyle("cap", parent=small, alignment=1)
        gap = "&nbsp;" * 9
        pics = Table(
            [[Paragraph(f"<b>{VIEWS[v][1]}</b>", cap) for v in view_names],
             [Paragraph(gap.join(VIEWS[v][2]), cap) for v in view_names],
             flows],
            colWidths=[img_w + 4] * len(flows),
        )
        pics.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                  ("LEFTPADDING", (0, 0), (-1, -1), 1), ("RIGHTPADDING", (0, 0), (-1, -1), 1),
                                  ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
        left_w = width if wide else len(flows) * (img_w + 4) + 4
        if not wide and width - left_w < 70 * mm:
            return None  # the text column would be too narrow to read

        class Legend(Flowable):
            def __init__(self, w):
                super().__init__()
                self.w, self.h = w, 20

            def wrap(self, *_):
                return self.w, self.h

            def draw(self):
                c = self.canv
                bar_x, bar_w, bar_y, bar_h = 34, self.w - 62, 9, 7
                c.setFont("Helvetica", 7)
                c.setFillColor(grey)
                c.drawString(0, bar_y + 1, "Pain")
                n = 60
                for i in range(n):
                    val = 10 * (i + 0.5) / n
                    r, g, b = (int(x) for x in intensity_rgb(np.array([max(val, 0.01)]))[0])
                    c.setFillColorRGB(r / 255, g / 255, b / 255)
                    c.rect(bar_x + bar_w * i / n, bar_y, bar_w / n + 0.3, bar_h, stroke=0, fill=1)
                c.setFillColor(grey)
                for t in (0, 5, 10):
                    c.drawCentredString(bar_x + bar_w * t / 10, 0.5, str(t))
                c.drawString(bar_x + bar_w + 4, bar_y + 1, "/ 10")

        regions = info["regions"]
        reg_rows = [[Paragraph(_x(lbl), cell), Paragraph(f"<b>{x:g}</b>/10", cell)] for lbl, x in regions[:12]]
        if len(regions) > 12:
            reg_rows.append([Paragraph(f"... and {len(regions) - 12} more", small), ""])
        right_w = (width - 12) / 2 if wide else width - left_w - 8
        right_col: list = [Paragraph("Where it hurts", h2)]
        if reg_rows:
            t = Table(reg_rows, colWidths=[right_w - 42, 42])
            t.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, rule), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2)]))
            right_col.append(t)
        else:
            right_col.append(Paragraph("No pain marked.", base))
        right_col.append(Spacer(1, 3))
        right_col.append(Paragraph(f"Painted area: <b>{info['painted_area_cm2']:.0f} cm²</b>", base))
        answers_col: list = right_col if not wide else []
        answers_col.append(Paragraph("Your answers", h2))
        ans = info["answers"]
        if ans:
            key_w = min(74, 0.36 * right_w)
            t = Table([[Paragraph(_x(k), cell_b), Paragraph(_x(v), cell)] for k, v in ans], colWidths=[key_w, right_w - key_w])
            t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.3, rule)]))
            answers_col.append(t)
        else:
            answers_col.append(Paragraph("No questions answered.", base))

        if wide:
            legend = Legend(min(width, 300))
            legend.hAlign = "CENTER"
            story += [pics, legend]
            cols = Table([[right_col, answers_col]], colWidths=[right_w + 12, right_w])
            cols.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (0, 0), 12), ("RIGHTPADDING", (1, 0), (1, 0), 0)]))
            story.append(cols)
        else:
            top = Table([[[pics, Legend(left_w - 6)], right_col]], colWidths=[left_w, width - left_w])
            top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                     ("RIGHTPADDING", (0, 0), (0, 0), 8), ("RIGHTPADDING", (1, 0), (1, 0), 0)]))
            story.append(top)

        # 4. Since last time (with a previous map).
        since = info["since_last_time"]
        if since is not None:
            when = ""
            if previous_date is not None:
                when = f" ({previous_date.isoformat() if isinstance(previous_date, _dt.date) else previous_date})"
            story.append(Paragraph(f"Since last time{_x(when)}", h2))
            story.append(Paragraph(_x(since_text(since)), base))
            rows = [[Paragraph(f"<b>{h}</b>", cell) for h in ("Region", "Painted area, cm²", "Worst pain /10", "")]]
            for r in since["regions"][:SINCE_ROWS]:
                rows.append([
                    Paragraph(_x(r["label"]), cell),
                    Paragraph(f"{r['area_before_cm2']:.0f} -> <b>{r['area_after_cm2']:.0f}</b>", cell),
                    Paragraph(f"{r['worst_before']:g} -> <b>{r['worst_after']:g}</b>", cell),
                    Paragraph(_x(r["status"]), cell),
                ])
            if len(since["regions"]) > SINCE_ROWS:
                rows.append([Paragraph(f"... and {len(since['regions']) - SINCE_ROWS} more", small), "", "", ""])
            if len(since["regions"]) == 0:
                rows.append([Paragraph("No pain marked on either map.", small), "", "", ""])
            st = Table(rows, colWidths=[width * 0.46, width * 0.2, width * 0.2, width * 0.14])
            st.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, rule),
                                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, grey), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                                    ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6)]))
            story.append(st)

        # 5. Candidates.
        story.append(Paragraph("Possible explanations to discuss with a clinician", h2))
        rows = [[Paragraph("<b>#</b>", cell), Paragraph("<b>Condition</b>", cell), Paragraph("<b>Match</b>", cell),
                 Paragraph("<b>Main reasons</b>", cell)]]
        if not painmap.has_pain:
            story.append(Paragraph("No pain marked, so this list mostly reflects how common each condition is"
                                   + (" at this age and with these answers." if painmap.red_flags or painmap.age else "."),
                                   small))
        for i, c in enumerate(info["candidates"], 1):
            sub = [] if _short(c["clinician_name"]) == c["name"] else [_x(c["clinician_name"])]
            if c["side"] in ("left", "right"):
                sub.append(f"{c['side']} side")
            name = f"<b>{_x(c['name'])}</b>"
            if sub:
                name += f"<br/><font color='#5b5b60' size='7.4'>{', '.join(sub)}</font>"
            if i == 1:
                try:
                    what = _first_sentences(card(c["condition"]).summary["patient"])
                    name += f"<br/><font size='7.6'>{_x(what)}</font>"
                except KeyError:
                    pass
            reasons = "<br/>".join(f"- {_x(r)}" for r in c["reasons"]) or "-"
            score = (f"{_x(c['band_label'])}<br/><font size='7' color='#5b5b60'>{_pct(c['probability'])}</font>"
                     + ("<br/><font size='7' color='#b3001b'>first: emergency sign</font>" if c["promoted"] else ""))
            rows.append([Paragraph(str(i), cell), Paragraph(name, cell), Paragraph(score, cell), Paragraph(reasons, cell)])
        ct = Table(rows, colWidths=[14, width * 0.4, 56, width - 14 - width * 0.4 - 56], repeatRows=0)
        ct.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, rule),
                                ("LINEBELOW", (0, 0), (-1, 0), 0.8, grey), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]))
        story.append(ct)

        # 6. Questions that would help most.
        if info["ask_next"]:
            story.append(Paragraph("Questions that would help tell them apart", h2))
            story.append(Paragraph("<br/>".join(f"- {_x(q)}" for q in info["ask_next"]), base))

        story.append(Spacer(1, 5))
        story.append(Paragraph(
            "Made on this computer by hipviz; nothing was sent anywhere. The match compares the answers with "
            "textbook patterns; the small percentage is the model's estimate that the condition is present "
            f"(conditions can coexist; something else: {_pct(info['something_else'])}). Figures not "
            "marked published are estimates.", small))
        return story

    def height(flowables) -> float:
        from reportlab.platypus.flowables import _listWrapOn

        w, h = _listWrapOn(flowables, width, None)
        return h if w <= width + 0.5 else float("inf")

    # the largest images that leave room for everything, beside the text if possible;
    # KeepInFrame shrinks the page only as a last resort
    fits = False
    for img_h in np.arange(130, 69, -4) * mm:
        for wide in (False, True):
            page = body(img_h, wide)
            if page is None:
                continue
            story = head_story + page
            if height(story) <= frame_h:
                fits = True
                break
        if fits:
            break
    LAST_LAYOUT.clear()
    LAST_LAYOUT.update(image_height_mm=round(float(img_h / mm), 1), views=view_names, wide=wide, shrunk=not fits)
    doc_story = [KeepInFrame(width, frame_h, story, mode="shrink")]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    doc = SimpleDocTemplate(
        str(tmp), pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin,
        title="hipviz pain map summary", author="hipviz", subject="Educational pain map summary",
        creator="hipviz", invariant=1,
    )
    try:
        doc.build(doc_story)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out_path


def pdf_bytes(painmap: PainMap, atlas=None, date: _dt.date | str | None = None,
              previous: PainMap | None = None, previous_date: _dt.date | str | None = None) -> bytes:
    """The same one-page summary as bytes (for a download button), written via a temporary file."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hipviz-report-") as d:
        return build_pdf(painmap, Path(d) / "summary.pdf", atlas=atlas, date=date, previous=previous,
                         previous_date=previous_date).read_bytes()
