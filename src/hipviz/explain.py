"""The explanation card of a condition, as plain data and as markdown.

`card(condition_id)` -> `Card`: names, plain-language summary, pathophysiology (patient and
clinician text), how pain reaches the skin, how a clinician tests for it (each finding with its
accuracy, labelled "published" only when the figure is cited and "estimate" otherwise, with the
caveats a reader must know: specificity measured against pain-free controls, a confidence
interval that includes 1, a figure that belongs to a criteria set or to a related condition),
treatments with what the trials found and the strength of the evidence, what to avoid, when to
refer, the warning signs with how fast to get help (from the triage rules, knowledge/triage.yaml),
the risk factors worth telling a clinician (never a reason on their own to seek care now),
references with PubMed/DOI links (as text; nothing is fetched) and the educational disclaimer.
`Card.to_dict()` is JSON-ready; `markdown(card)` renders it for a side panel, a file or a terminal.

All medical content comes from the knowledge files; this module only arranges it.
Domain code: no UI or rendering imports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hipviz import triage
from hipviz.ddx import DISCLAIMER
from hipviz.vocabulary import vocabulary

__all__ = ["GRADE_LABELS", "BASIS_LABELS", "CAVEAT_LABELS", "TESTS_HEADING", "Test", "TreatmentInfo", "ReferenceInfo",
           "Card", "card", "markdown", "warning_level"]

GRADE_LABELS = {
    "strong": "Strong evidence",
    "moderate": "Moderate evidence",
    "limited": "Limited evidence",
    "very_limited": "Very limited evidence",
    "expert_opinion": "Expert opinion only",
    "recommend_against": "Recommended against",
}
#: "published" only over a figure with a citation behind it; everything else is an estimate.
BASIS_LABELS = {
    "cited": "published",
    "estimate": "estimate",
}
#: Heading of the test table (the accuracy column mixes published figures and estimates).
TESTS_HEADING = "Accuracy (published, with its source, or estimate)"
CAVEAT_LABELS = {
    "control_based_specificity": "specificity measured against people without the complaint, so lower among patients",
    "interval_crosses_1": "the confidence interval of the likelihood ratio includes 1",
    "criteria_set": "the published accuracy belongs to a set of criteria, not to this sign alone",
    "other_target_condition": "the published figures are for a related problem, not this one",
    "small_sample": "small study",
}
URGENCY_LABELS = {
    "routine": "Routine: see a clinician if it does not settle",
    "soon": "See a doctor soon",
    "emergency": "Emergency: seek medical care now",
}
PATTERN_BASIS_LABELS = {
    "study": "Pain map from patient studies",
    "clinical_consensus": "Pain map from clinical consensus",
    "expert_opinion": "Expert-derived pain map, not validated",
}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x < 10 else f"{x:.0f}"


@dataclass(frozen=True)
class Test:
    """A clinical test or sign with its accuracy as the knowledge file gives it."""

    id: str
    label: str
    sensitivity: float | None
    specificity: float | None
    lr_positive: float | None
    lr_negative: float | None
    basis: str  # "cited" | "estimate"
    basis_label: str  # "published" | "estimate"
    references: tuple[str, ...]  # the source of a published figure, or the context of an estimate
    note: str
    caveats: tuple[str, ...] = ()  # plain-words caveats (CAVEAT_LABELS)

    @property
    def provenance(self) -> str:
        """'published: CACCHIO12' or 'estimate' (+ ', based on KEY' when an estimate has sources)."""
        refs = ", ".join(self.references)
        if self.basis == "cited":
            return f"published: {refs}"
        return f"estimate, based on {refs}" if refs else "estimate"

    @property
    def accuracy(self) -> str:
        """'sensitivity 85%, specificity 45%' and/or 'LR+ 7.5, LR- 0.62', as given."""
        parts = []
        if self.sensitivity is not None:
            parts.append(f"sensitivity {_pct(self.sensitivity)}")
        if self.specificity is not None:
            parts.append(f"specificity {_pct(self.specificity)}")
        if self.lr_positive is not None:
            parts.append(f"LR+ {_num(self.lr_positive)}")
        if self.lr_negative is not None:
            parts.append(f"LR- {_num(self.lr_negative)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class TreatmentInfo:
    intervention: str
    findings: str  # what the trials found
    grade: str
    grade_label: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ReferenceInfo:
    key: str
    citation: str
    pmid: str | None
    doi: str | None
    unverified: str | None

    @property
    def links(self) -> tuple[str, ...]:
        """PubMed and DOI links, as text (never fetched)."""
        out = []
        if self.pmid:
            out.append(f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/")
        if self.doi:
            out.append(f"https://doi.org/{self.doi}")
        return tuple(out)


@dataclass(frozen=True)
class Card:
    condition: str
    name: str  # patient-facing
    clinician_name: str
    category: str
    urgency: str
    urgency_label: str
    summary: dict[str, str]  # {"patient", "clinician"}
    pathophysiology: dict[str, str]  # {"patient", "clinician"}
    referral: dict[str, Any]  # mechanism, segments, patient, clinician
    pattern: dict[str, Any]  # basis, basis_label, side_rule, note, regions [{region, label, weight}]
    tests: tuple[Test, ...]
    treatments: tuple[TreatmentInfo, ...]
    avoid: tuple[str, ...]
    refer_when: tuple[str, ...]
    red_flags: tuple[dict[str, str], ...]  # warning signs only: [{id, label, level, action}], most
    # urgent first, then commonest (the level is that of the triage rule the sign sets off alone)
    references: tuple[ReferenceInfo, ...]
    # risk factors the knowledge file links with the condition: [{id, label}]; worth telling a
    # clinician, never on their own a reason to seek care now
    risk_factors: tuple[dict[str, str], ...] = ()
    # combinations of answers that raise the level for this condition: [{signs: [labels], level, action}]
    warning_combinations: tuple[dict[str, Any], ...] = ()
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tests"] = [{**asdict(t), "accuracy": t.accuracy} for t in self.tests]
        d["references"] = [{**asdict(r), "links": list(r.links)} for r in self.references]
        for k in ("avoid", "refer_when"):
            d[k] = list(d[k])
        d["red_flags"] = [dict(x) for x in self.red_flags]
        d["risk_factors"] = [dict(x) for x in self.risk_factors]
        d["warning_combinations"] = [{**x, "signs": list(x["signs"])} for x in self.warning_combinations]
        d["treatments"] = [{**asdict(t), "references": list(t.references)} for t in self.treatments]
        return d

    def markdown(self, register: str = "both") -> str:
        return markdown(self, register)


def card(condition_id: str) -> Card:
    """The explanation card of a condition (KeyError for an unknown id)."""
    from hipviz.knowledge.loader import knowledge

    k = knowledge()
    if not isinstance(condition_id, str) or condition_id not in k:
        raise KeyError(f"unknown condition {condition_id!r}; known: {', '.join(k)}")
    e = k[condition_id]
    c, p = e.condition, e.pattern
    v = vocabulary()
    rp = c.referral_path
    tests = tuple(
        Test(
            id=f.id, label=v.findings[f.id], sensitivity=f.sensitivity, specificity=f.specificity,
            lr_positive=f.lr_positive, lr_negative=f.lr_negative, basis=f.basis, basis_label=BASIS_LABELS[f.basis],
            references=tuple(f.references), note=" ".join(f.note.split()),
            caveats=tuple(CAVEAT_LABELS[x] for x in f.caveats),
        )
        # tests that point towards the condition first (highest LR+), the arguing-against ones last
        for f in sorted(c.findings, key=lambda f: -f.likelihood_ratios()[0])
    )
    treatments = tuple(
        TreatmentInfo(t.intervention, t.findings.strip(), t.grade, GRADE_LABELS[t.grade], tuple(t.references))
        for t in c.treatments
    )
    rules = triage.rules()
    risk = set(rules.risk_factors)
    signs = [(f, p_) for f, p_ in c.red_flags.items() if f not in risk]
    levels = {f: warning_level(f) for f, _ in signs}
    flags = tuple(
        {"id": f, "label": v.red_flags[f], "level": levels[f], "action": rules.levels[levels[f]]["title"]}
        for f, _ in sorted(signs, key=lambda kv: (triage.level_rank(levels[kv[0]]), -kv[1]))
    )
    risk_factors = tuple({"id": f, "label": v.red_flags[f]}
                         for f, _ in sorted(c.red_flags.items(), key=lambda kv: -kv[1]) if f in risk)
    combos = tuple(
        {"signs": tuple(v.red_flags.get(i) or v.findings.get(i, i) for i in r.all)
         + ((("any of: " + "; ".join(_lc1(v.red_flags.get(i) or v.findings.get(i, i)) for i in r.any)),) if r.any else ())
         + ((("pain in: " + ", ".join(v.regions[x].lower() for x in r.painted_any)),) if r.painted_any else ()),
         "level": r.level, "action": rules.levels[r.level]["title"], "rule": r.id}
        for r in rules.rules if (r.all or r.painted_any) and c.id in r.rule_out
    )
    refs = tuple(ReferenceInfo(r.key, r.citation.strip(), r.pmid, r.doi, r.unverified) for r in c.references)
    regions = [
        {"region": r, "label": v.regions[r], "weight": w}
        for r, w in sorted(p.regions.items(), key=lambda kv: -kv[1])
    ]
    return Card(
        condition=c.id, name=c.names.patient, clinician_name=c.names.clinician, category=c.category,
        urgency=c.urgency, urgency_label=URGENCY_LABELS[c.urgency],
        summary={"patient": c.summary.patient.strip(), "clinician": c.summary.clinician.strip()},
        pathophysiology={"patient": c.pathophysiology.patient.strip(), "clinician": c.pathophysiology.clinician.strip()},
        referral={"mechanism": rp.mechanism, "segments": list(rp.segments),
                  "patient": rp.explanation.patient.strip(), "clinician": rp.explanation.clinician.strip()},
        pattern={"basis": p.basis, "basis_label": PATTERN_BASIS_LABELS[p.basis], "side_rule": p.side_rule,
                 "note": p.note.strip(), "regions": regions, "references": list(p.references)},
        tests=tests, treatments=treatments, avoid=tuple(x.strip() for x in c.avoid),
        refer_when=tuple(x.strip() for x in c.refer_when), red_flags=flags, references=refs,
        risk_factors=risk_factors, warning_combinations=combos,
    )


def _lc1(label: str) -> str:
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def warning_level(sign: str) -> str:
    """How fast to get help for a warning sign on its own: the most urgent triage rule that fires
    on it alone ("soon" if none does)."""
    levels = [r.level for r in triage.rules().rules if sign in r.standalone]
    return min(levels, key=triage.level_rank) if levels else "soon"


def markdown(c: Card, register: str = "both") -> str:
    """The card as markdown. ``register``: "patient" (plain words only), "clinician", or "both"."""
    if register not in ("patient", "clinician", "both"):
        raise ValueError(f"register must be 'patient', 'clinician' or 'both', not {register!r}")
    pat, cli = register in ("patient", "both"), register in ("clinician", "both")
    out = [f"# {c.name}", ""]
    if cli and c.clinician_name != c.name:
        out += [f"*{c.clinician_name}*", ""]
    out += [f"**{c.urgency_label}.**", ""]
    if c.urgency == "emergency":
        out += ["> If this could be you, seek medical care now.", ""]

    def two(title: str, d: dict[str, str]) -> None:
        out.extend([f"## {title}", ""])
        if pat:
            out.extend([d["patient"], ""])
        if cli:
            out.extend([("**For clinicians:** " if pat else "") + d["clinician"], ""])

    two("In short", c.summary)
    two("What is going on", c.pathophysiology)
    two("How the pain reaches where you feel it", {**c.referral})
    where = ", ".join(f"{r['label'].lower()} ({_pct(r['weight'])})" for r in c.pattern["regions"][:6])
    out += [f"Usually felt in: {where}. *{c.pattern['basis_label']}.*", ""]

    if c.tests:
        out += ["## How a clinician tests for it", "", f"*{TESTS_HEADING}.*", ""]
        for t in c.tests:
            caveats = f"; {'; '.join(t.caveats)}" if t.caveats else ""
            out.append(f"- **{t.label}**: {t.accuracy} ({t.provenance}{caveats})")
            if cli and t.note:
                out.append(f"  - {t.note}")
        out.append("")
    out += ["## Treatment: what the trials found", ""]
    for t in c.treatments:
        refs = f" [{', '.join(t.references)}]" if t.references else ""
        out += [f"- **{t.intervention}** ({t.grade_label}){refs}", f"  - {t.findings}"]
    out.append("")
    if c.avoid:
        out += ["## What to avoid", ""] + [f"- {x}" for x in c.avoid] + [""]
    out += ["## When to see a clinician", ""] + [f"- {x}" for x in c.refer_when] + [""]
    if c.red_flags or c.warning_combinations:
        out += ["## Warning signs: when to get help, and how fast", ""]
        out += [f"- {f['label']}: **{f['action']}**" for f in c.red_flags]
        out += [f"- {' + '.join(x['signs'])}: **{x['action']}**" for x in c.warning_combinations]
        out.append("")
    if c.risk_factors:
        out += ["## Worth telling your clinician", "",
                "These make the condition more likely but are not, on their own, a reason to seek care urgently.", ""]
        out += [f"- {f['label']}" for f in c.risk_factors] + [""]
    out += ["## References", ""]
    for r in c.references:
        extra = " ".join(r.links)
        note = f" (not verified: {r.unverified})" if r.unverified else ""
        out.append(f"- [{r.key}] {r.citation}" + (f" {extra}" if extra else "") + note)
    out += ["", "---", "", f"*{c.disclaimer}*", ""]
    return "\n".join(out)
