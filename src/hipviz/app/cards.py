"""HTML for the explanation card, the referral path steps, the overlap and explore-mode
descriptions (plain strings: no UI library, no links that would fetch anything)."""

from __future__ import annotations

import html

from hipviz.explain import TESTS_FOR_PATIENTS, TESTS_HEADING, Card
from hipviz.referral import (
    PATTERN_THRESHOLD,
    Overlap,
    ReferralPath,
    StructureDescription,
)

e = html.escape

#: Warning signs shown on every card whose condition has none of its own.

GRADE_CLASS = {
    "strong": "g-strong", "moderate": "g-moderate", "limited": "g-limited", "very_limited": "g-vlimited",
    "expert_opinion": "g-expert", "recommend_against": "g-against",
}


def _paras(text: str) -> str:
    return "".join(f"<p>{e(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def card_html(c: Card, register: str = "patient") -> str:
    """The explanation card. ``register``: "patient" (plain words) or "clinician"."""
    reg = "clinician" if register == "clinician" else "patient"
    out = [f"<div class='hv-card' data-condition='{e(c.condition)}' data-register='{reg}'>"]
    urg = f"hv-urg-{c.urgency}"
    out.append(f"<div class='hv-urgency {urg}'>{e(c.urgency_label)}</div>")
    if c.everyday_words:
        out.append("<p class='hv-also'>Also called: " + ", ".join(
            f"<span title='{e(w['explanation'])}'>{e(w['word'])}</span>" for w in c.everyday_words) + "</p>")
    out.append(f"<h4>In short</h4>{_paras(c.summary[reg])}")
    out.append(f"<h4>What is going on</h4>{_paras(c.pathophysiology[reg])}")
    kind = c.referral.get("kind_label")
    out.append("<h4>How the pain reaches where it is felt</h4>"
               + (f"<p class='hv-kind' data-kind='{e(c.referral['kind'])}'><b>{e(kind)}.</b> "
                  f"{e(c.referral['kind_explanation'][reg])}</p>" if kind else "")
               + _paras(c.referral[reg]))
    if c.tests and reg == "patient":
        out.append(f"<h4>How a clinician tests for it</h4><p>{e(TESTS_FOR_PATIENTS)}</p>")
    elif c.tests:
        rows = "".join(
            f"<tr><td>{e(t.label)}</td><td>{e(t.accuracy) or '—'}<div class='hv-basis'>{e(t.provenance)}"
            + (f"; {e('; '.join(t.caveats))}" if t.caveats else "") + "</div>"
            + (f"<div class='hv-note'>{e(t.note)}</div>" if reg == "clinician" and t.note else "")
            + "</td></tr>"
            for t in c.tests
        )
        out.append("<h4>How a clinician tests for it</h4>"
                   f"<table class='hv-tests'><tr><th>Test or sign</th><th>{e(TESTS_HEADING)}</th></tr>{rows}</table>")
    if c.treatments:
        items = "".join(
            f"<li><div class='hv-tx-head'><b>{e(t.intervention)}</b> <span class='hv-grade {GRADE_CLASS.get(t.grade, '')}'>"
            f"{e(t.grade_label)}</span></div>"
            # patients read the strength of the evidence; the trial figures are for clinicians
            + (f"<div>{e(t.findings)}" + (f" <span class='hv-ref'>[{e(', '.join(t.references))}]</span>" if t.references else "")
               + "</div>" if reg == "clinician" else "") + "</li>"
            for t in c.treatments
        )
        head = "Treatment: what the trials found" if reg == "clinician" else "Treatment: how well it is supported"
        out.append(f"<h4>{head}</h4><ul class='hv-tx'>{items}</ul>")
    if c.self_care:
        items = "".join(
            f"<li><div class='hv-tx-head'><b>{e(a.topic_label)}</b> <span class='hv-grade {GRADE_CLASS.get(a.grade, '')}'>"
            f"{e(a.grade_label)}</span></div><div>{e(a.patient if reg == 'patient' else a.clinician)}"
            + (f" <span class='hv-ref'>[{e(', '.join(a.references))}]</span>" if a.references and reg == "clinician" else "")
            + "</div></li>"
            for a in c.self_care
        )
        safety = "".join(
            f"<details class='hv-safety'><summary>Who should not take {e(label)} without advice</summary>"
            f"<p>{e(note[reg])}</p></details>"
            for med, note in (c.medicine_safety or {}).items()
            for label in [{"paracetamol": "paracetamol (acetaminophen)", "nsaids": "anti-inflammatory medicines"}[med]]
        )
        out.append(f"<h4>Pain relief and self-care</h4><ul class='hv-tx hv-care'>{items}</ul>{safety}")
    if c.physiotherapy:
        out.append(f"<h4>Seeing a physiotherapist</h4>{_paras(c.physiotherapy[reg])}")
    if c.avoid:
        out.append("<h4>What to avoid</h4><ul>" + "".join(f"<li>{e(x)}</li>" for x in c.avoid) + "</ul>")
    if c.refer_when:
        out.append("<h4>When to see a clinician</h4><ul class='hv-refer'>" + "".join(
            f"<li data-level='{x['level']}'>{e(x['when'])} — <b>{e(x['label'])}</b></li>" for x in c.refer_when) + "</ul>")
    def flag_list(items) -> str:
        return "<ul>" + "".join(f"<li>{e(label)}: <b>{e(action)}</b></li>" for label, action in items) + "</ul>"

    own = [(f["label"], f["action"]) for f in c.red_flags]
    own += [(" + ".join(x["signs"]), x["action"]) for x in c.warning_combinations]
    general = [(f["label"], f["action"]) for f in c.general_flags]
    html_ = "<h4>Warning signs</h4><div class='hv-flags'>"
    if own:
        html_ += "<p>Get help if any of these apply, as fast as it says:</p>" + flag_list(own)
    if general:
        html_ += ("<p>Whatever the cause of the pain, get help for:</p>" if own else
                  "<p>None is linked with this condition itself. Whatever the cause of the pain, get help for:</p>")
        html_ += flag_list(general)
    out.append(html_ + "</div>")
    if c.risk_factors:
        out.append("<h4>Worth telling your clinician</h4><p>These make it more likely, but are not on their own a reason "
                   "to seek care urgently:</p><ul>" + "".join(f"<li>{e(f['label'])}</li>" for f in c.risk_factors) + "</ul>")
    if c.references:
        refs = "".join(
            f"<li><b>[{e(r.key)}]</b> {e(r.citation)}"
            + (f" <span class='hv-ids'>{' · '.join(e(x) for x in ([f'PMID {r.pmid}'] if r.pmid else []) + ([f'doi:{r.doi}'] if r.doi else []))}</span>" if (r.pmid or r.doi) else "")
            + (f" <i>(not verified: {e(r.unverified)})</i>" if r.unverified else "") + "</li>"
            for r in c.references
        )
        out.append(f"<details class='hv-refs'><summary>References ({len(c.references)})</summary><ol>{refs}</ol></details>")
    out.append(f"<p class='hv-disclaimer'>{e(c.disclaimer)}</p></div>")
    return "".join(out)


def overlap_html(o: Overlap | None, painted: bool) -> str:
    legend = ("<div class='hv-legend'><span class='hv-sw hv-sw-hatch'></span> Hatched zone with a dark border: where this "
              "condition usually hurts (the textbook pattern)"
              "<br><span class='hv-sw hv-sw-fill'></span> Filled colour: the pain painted on this map</div>")
    if o is None or not painted:
        return (f"<div class='hv-overlap' data-overlap='0'><p>Nothing painted yet: the hatched zone shows where "
                f"this condition usually hurts ({o.pattern_cm2:.0f} cm²).</p>{legend}</div>" if o else legend)
    return (
        f"<div class='hv-overlap' data-overlap='{o.overlap_cm2:.1f}'>"
        f"<div class='hv-ov-big'><b>{o.overlap_cm2:.0f} cm²</b> painted inside the pattern</div>"
        "<div class='hv-ov-row'>"
        f"<div><b>{100 * o.share_of_painted:.0f}%</b><span>of the painted area ({o.painted_cm2:.0f} cm²)</span></div>"
        f"<div><b>{100 * o.share_of_pattern:.0f}%</b><span>of the pattern ({o.pattern_cm2:.0f} cm²)</span></div>"
        f"</div>{legend}</div>"
    )


def path_html(path: ReferralPath, current: int | None, zone_lit: bool) -> str:
    """The path steps as a numbered list; the step lit now is marked."""
    items = []
    for s in path.steps:
        cls = "now" if current == s.index else ("done" if (current is not None and s.index < current) or zone_lit else "")
        role = "" if s.name.lower().endswith(s.role.lower()) else s.role     # not "facet joint joint"
        items.append(f"<li class='{cls}'><b>{e(s.name)}</b> <span>{e(role)}"
                     + (f" ({e(', '.join(s.carries or s.segments))})" if (s.carries or s.segments) else "") + "</span></li>")
    zone = ", ".join(z.label.lower() for z in path.main_zone(PATTERN_THRESHOLD)[:4]) or (path.zone[0].label.lower() if path.zone else "")
    items.append(f"<li class='{'now' if zone_lit else ''}'><b>Where it is felt</b> <span>{e(zone)}</span></li>")
    kind = path.kind_label
    return (f"<div class='hv-path' data-kind='{e(path.kind)}'><div class='hv-path-kind'>{e(kind)} · {e(path.mechanism_label)} "
            f"({e(', '.join(path.segments))})</div><ol>{''.join(items)}</ol>"
            f"<p class='hv-why'>{e(path.why)}</p></div>")


def structure_html(d: StructureDescription) -> str:
    rows = "".join(
        f"<tr><th>{label}</th><td>{e(v)}</td></tr>"
        for label, v in (("Origin", d.origin), ("Insertion", d.insertion), ("Action", d.action),
                         ("Nerve supply", d.innervation), ("Spinal segments", ", ".join(d.segments)))
        if v
    )
    src = [c for c in d.conditions if c.role == "source"]
    on = [c for c in d.conditions if c.role != "source"]
    refer = ""
    if src:
        refer = "<h4>Pain it can refer (hatched on the skin)</h4><ul class='hv-refers'>" + "".join(
            f"<li><b>{e(c.name)}</b> <span class='hv-muted'>({e(c.clinician_name)})</span>: "
            f"{e(', '.join(z.label.lower() for z in c.zone if z.weight >= PATTERN_THRESHOLD)[:200] or c.zone[0].label.lower())}"
            f" <i class='hv-basis'>{e(c.pattern_basis_label)}</i></li>" for c in src) + "</ul>"
    else:
        refer = "<p class='hv-muted'>None of the conditions in hipviz starts in this structure.</p>"
    if on:
        refer += "<h4>On the pain path of</h4><p>" + e("; ".join(c.clinician_name for c in on)) + "</p>"
    title = d.name + (f" ({d.side})" if d.side and d.side not in d.name.lower() else "")
    return (f"<div class='hv-structure' data-structure='{e(d.atlas_id)}'><h3>{e(title)}</h3>"
            f"<p class='hv-what'>{e(d.what)}</p><table class='hv-facts'>{rows}</table>{refer}</div>")


CARD_CSS = """
.hv-card h4, .hv-structure h4 { margin: 14px 0 4px; font-size: 16px; color: #1f2a38; }
.hv-card p, .hv-card li, .hv-structure p, .hv-structure li { font-size: 15px; line-height: 1.45; }
.hv-card ul { padding-left: 20px; margin: 4px 0; }
.hv-urgency { padding: 6px 10px; border-radius: 6px; font-weight: 600; font-size: 15px; }
.hv-urg-routine { background: #e8f3ea; color: #1d4d26; }
.hv-urg-soon { background: #ffe3b3; color: #4a2b00; }
.hv-urg-urgent { background: #ffc9a8; color: #5a1a00; }
.hv-urg-emergency { background: #b00020; color: #fff; }
.hv-tests { border-collapse: collapse; width: 100%; font-size: 14px; }
.hv-tests th { text-align: left; background: #eef1f6; padding: 4px 6px; }
.hv-tests td { border-top: 1px solid #dde2ea; padding: 5px 6px; vertical-align: top; }
.hv-basis { color: #667; font-size: 13px; }
.hv-note { color: #445; font-size: 13px; margin-top: 2px; }
.hv-tx li { margin-bottom: 8px; }
.hv-also { font-size: 13px; color: #445; margin: 4px 0; }
.hv-also span { border-bottom: 1px dotted #889; }
.hv-kind { background: #eef4fb; border-left: 4px solid #4a7ab5; padding: 4px 10px; border-radius: 4px; }
.hv-safety { font-size: 13px; margin: 4px 0; }
.hv-grade { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12.5px; font-weight: 600; }
.g-strong { background: #1d7a35; color: #fff; } .g-moderate { background: #62a744; color: #fff; }
.g-limited { background: #e0b000; color: #222; } .g-vlimited { background: #f0d98a; color: #222; }
.g-expert { background: #c9ced6; color: #222; } .g-against { background: #b00020; color: #fff; }
.hv-ref, .hv-ids { color: #667; font-size: 13px; }
.hv-flags { background: #fdecea; border-left: 4px solid #b00020; padding: 4px 10px; border-radius: 4px; }
.hv-refs summary { cursor: pointer; font-weight: 600; margin-top: 12px; font-size: 15px; }
.hv-refs li { font-size: 13px; margin-bottom: 4px; }
.hv-overlap { background: #fff; border-radius: 8px; padding: 8px 10px; box-shadow: 0 1px 2px #0002; }
.hv-ov-big { font-size: 17px; }
.hv-ov-row { display: flex; gap: 10px; margin: 6px 0; }
.hv-ov-row > div { flex: 1; background: #f1f4f9; border-radius: 6px; padding: 5px 7px; }
.hv-ov-row b { font-size: 20px; display: block; }
.hv-ov-row span { font-size: 13px; color: #445; }
.hv-legend { font-size: 13.5px; color: #334; line-height: 1.7; margin-top: 4px; }
.hv-sw { display: inline-block; width: 26px; height: 14px; vertical-align: middle; border-radius: 3px; margin-right: 4px; }
.hv-sw-hatch { border: 2px solid #16195c; background: repeating-linear-gradient(45deg, #16195c 0 4px, #e8b796 4px 9px); }
.hv-sw-fill { background: #d62728; }
.hv-path ol { margin: 6px 0; padding-left: 22px; }
.hv-path li { font-size: 15px; padding: 3px 4px; border-radius: 4px; margin-bottom: 2px; }
.hv-path li span { color: #556; font-size: 14px; }
.hv-path li.done { background: #fff3d1; }
.hv-path li.now { background: #ffd95a; }
.hv-path-kind { font-size: 13.5px; color: #445; text-transform: none; }
.hv-why { font-size: 14px; color: #334; font-style: italic; }
.hv-what { font-size: 15px; }
.hv-facts { border-collapse: collapse; font-size: 14.5px; }
.hv-facts th { text-align: left; vertical-align: top; padding: 3px 8px 3px 0; color: #445; white-space: nowrap; }
.hv-facts td { padding: 3px 0; }
.hv-refers li { margin-bottom: 5px; }
"""

__all__ = ["CARD_CSS", "card_html", "overlap_html", "path_html", "structure_html"]
