"""The explanation card of a condition, as plain data and as markdown.

`card(condition_id)` -> `Card`: names, the everyday words people use for it, plain-language
summary, pathophysiology (patient and clinician text), how pain reaches the skin and which kind of
pain that is (local, somatic referred, radicular, a trapped nerve or a blood vessel), how a
clinician tests for it (each finding with its accuracy, labelled "published" only when the figure
is cited and "estimate" otherwise, with the caveats a reader must know: specificity measured
against pain-free controls, a confidence interval that includes 1, a figure that belongs to a
criteria set or to a related condition), treatments with what the trials found and the strength
of the evidence, pain relief and self-care (medicines and who should not take them, ice or heat,
activity, posture, strengthening, injections, surgery, seeing a physiotherapist), what to avoid,
when to refer, the warning signs with how fast to get help (from the triage rules,
knowledge/triage.yaml), the risk factors worth telling a clinician (never a reason on their own to
seek care now), references with PubMed/DOI links (as text; nothing is fetched) and the
educational disclaimer.
`Card.to_dict()` is JSON-ready; `markdown(card)` renders it for a side panel, a file or a terminal.

All medical content comes from the knowledge files; this module only arranges it.
Domain code: no UI or rendering imports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hipviz import ddx, triage
from hipviz.ddx import DISCLAIMER
from hipviz.referral import PATH_KINDS
from hipviz.vocabulary import vocabulary

__all__ = ["GRADE_LABELS", "SELF_CARE_LABELS", "BASIS_LABELS", "CAVEAT_LABELS", "TESTS_HEADING", "Test",
           "TreatmentInfo", "SelfCareInfo", "ReferenceInfo", "Card", "card", "markdown", "warning_level"]

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
#: The patient register names no tests and no figures: it says what the examination is for.
TESTS_FOR_PATIENTS = ("A physiotherapist or doctor examines the hip, back and leg with a few movements, pressure points "
                      "and strength or reflex checks. No single test settles it; together with your story they point "
                      "to the source. The tests and how accurate they are are in the clinician view.")
CAVEAT_LABELS = {
    "control_based_specificity": "specificity measured against people without the complaint, so lower among patients",
    "interval_crosses_1": "the confidence interval of the likelihood ratio includes 1",
    "criteria_set": "the published accuracy belongs to a set of criteria, not to this sign alone",
    "other_target_condition": "the published figures are for a related problem, not this one",
    "small_sample": "small study",
}
_LEVEL_ORDER = (*triage.LEVELS, "routine")
ROUTINE_LABEL = "Routine: see a clinician if it does not settle"


def level_label(level: str) -> str:
    """How fast, in the alerts' own words (triage.yaml levels); "routine" is below every alert."""
    return triage.rules().levels[level]["title"] if level in triage.LEVELS else ROUTINE_LABEL


SELF_CARE_LABELS = {
    "what_to_do_now": "What to do now",
    "paracetamol": "Paracetamol (acetaminophen)",
    "nsaids": "Anti-inflammatory medicines (NSAIDs, such as ibuprofen or naproxen)",
    "other_medicines": "Other medicines",
    "ice_heat": "Ice or heat",
    "activity": "Rest and activity",
    "posture": "Posture, sitting and sleeping",
    "strengthening": "Strengthening and exercise",
    "injections": "Injections",
    "surgery": "Surgery",
    "physiotherapy": "Seeing a physiotherapist",
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
        """'published [CACCHIO12]' or 'estimate' (+ ', based on [KEY]' when an estimate has sources)."""
        refs = ", ".join(self.references)
        if self.basis == "cited":
            return f"published [{refs}]"
        return f"estimate, based on [{refs}]" if refs else "estimate"

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
class SelfCareInfo:
    """One pain-relief or self-care topic for this condition, in both registers."""

    topic: str
    topic_label: str
    patient: str
    clinician: str
    grade: str
    grade_label: str
    references: tuple[str, ...]
    shared: str | None  # the shared library entry it comes from, if any


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
    referral: dict[str, Any]  # mechanism, kind, kind_label, kind_explanation, segments, patient, clinician
    pattern: dict[str, Any]  # basis, basis_label, side_rule, note, regions [{region, label, weight}]
    tests: tuple[Test, ...]
    treatments: tuple[TreatmentInfo, ...]
    avoid: tuple[str, ...]
    refer_when: tuple[dict[str, str], ...]  # [{when, level, label}], most urgent first
    general_flags: tuple[dict[str, str], ...]  # warning signs of any back or hip pain the file does not list
    red_flags: tuple[dict[str, str], ...]  # warning signs only: [{id, label, level, action}], most
    # urgent first, then commonest (the level is that of the triage rule the sign sets off alone)
    references: tuple[ReferenceInfo, ...]
    everyday_words: tuple[dict[str, str], ...] = ()  # [{word, explanation}]
    self_care: tuple[SelfCareInfo, ...] = ()  # in topic order
    medicine_safety: dict[str, dict[str, Any]] | None = None  # {"paracetamol"|"nsaids": {patient, clinician}} when relevant
    physiotherapy: dict[str, Any] | None = None  # {patient, clinician, references}: seeing a physiotherapist
    # (direct access); not on emergency cards, which go to medical care first
    # risk factors the knowledge file links with the condition: [{id, label}]; worth telling a
    # clinician, never on their own a reason to seek care now
    risk_factors: tuple[dict[str, str], ...] = ()
    # combinations of answers that raise the level for this condition: [{signs: [labels], level, action}]
    warning_combinations: tuple[dict[str, Any], ...] = ()
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["self_care"] = [{**asdict(x), "references": list(x.references)} for x in self.self_care]
        d["everyday_words"] = [dict(x) for x in self.everyday_words]
        d["tests"] = [{**asdict(t), "accuracy": t.accuracy} for t in self.tests]
        d["references"] = [{**asdict(r), "links": list(r.links)} for r in self.references]
        d["avoid"] = list(self.avoid)
        d["refer_when"] = [dict(x) for x in self.refer_when]
        d["red_flags"] = [dict(x) for x in self.red_flags]
        d["general_flags"] = [dict(x) for x in self.general_flags]
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

    def flag(f: str) -> dict[str, str]:
        lv = warning_level(f)
        return {"id": f, "label": v.red_flags[f], "level": lv, "action": rules.levels[lv]["title"]}

    # most urgent first, then the commonest
    flags = tuple(flag(f) for f, _ in sorted(signs, key=lambda kv: (triage.level_rank(warning_level(kv[0])), -kv[1])))
    general = tuple(flag(f) for f in rules.general_warning_signs if f not in c.red_flags)
    # only those that really raise it (a file may list one to say it is uncommon: age over 50 in FAI)
    risk_factors = tuple({"id": f, "label": v.red_flags[f]}
                         for f, _ in sorted(c.red_flags.items(), key=lambda kv: -kv[1]) if f in risk and c.id in ddx.raised_by(f))
    combos = tuple(
        {"signs": tuple(v.red_flags.get(i) or v.findings.get(i, i) for i in r.all)
         + ((("any of: " + "; ".join(_lc1(v.red_flags.get(i) or v.findings.get(i, i)) for i in r.any)),) if r.any else ())
         + ((("pain in: " + ", ".join(v.regions[x].lower() for x in r.painted_any)),) if r.painted_any else ()),
         "level": r.level, "action": rules.levels[r.level]["title"], "rule": r.id}
        for r in rules.rules if (r.all or r.painted_any) and c.id in r.rule_out
    )
    refs = [ReferenceInfo(r.key, r.citation.strip(), r.pmid, r.doi, r.unverified) for r in c.references]
    care, safety, physio = _self_care(c, refs)
    refs = tuple(refs)
    regions = [
        {"region": r, "label": v.regions[r], "weight": w}
        for r, w in sorted(p.regions.items(), key=lambda kv: -kv[1])
    ]
    return Card(
        condition=c.id, name=c.names.patient, clinician_name=c.names.clinician, category=c.category,
        urgency=c.urgency, urgency_label=level_label(c.urgency),
        summary={"patient": c.summary.patient.strip(), "clinician": c.summary.clinician.strip()},
        pathophysiology={"patient": c.pathophysiology.patient.strip(), "clinician": c.pathophysiology.clinician.strip()},
        referral={"mechanism": rp.mechanism, "kind": rp.path_kind, "kind_label": PATH_KINDS[rp.path_kind]["label"],
                  "kind_explanation": {"patient": PATH_KINDS[rp.path_kind]["patient"],
                                       "clinician": PATH_KINDS[rp.path_kind]["clinician"]},
                  "segments": list(rp.segments),
                  "patient": rp.explanation.patient.strip(), "clinician": rp.explanation.clinician.strip()},
        pattern={"basis": p.basis, "basis_label": PATTERN_BASIS_LABELS[p.basis], "side_rule": p.side_rule,
                 "note": p.note.strip(), "regions": regions, "references": list(p.references)},
        tests=tests, treatments=treatments, avoid=tuple(x.strip() for x in c.avoid),
        general_flags=general, refer_when=tuple({"when": " ".join(x.when.split()), "level": x.level, "label": level_label(x.level)}
                         for x in sorted(c.refer_when, key=lambda x: _LEVEL_ORDER.index(x.level))),
        red_flags=flags, references=refs,
        everyday_words=tuple({"word": w.word, "explanation": w.explanation.strip()} for w in c.everyday_words),
        self_care=care, medicine_safety=safety, physiotherapy=physio,
        risk_factors=risk_factors, warning_combinations=combos,
    )


def _self_care(c, refs: list[ReferenceInfo]):
    """The condition's self-care topics (shared entries resolved), the medicine-safety notes for
    the medicines it discusses, and the physiotherapy note; references of shared entries are
    appended to ``refs`` so that every key shown on the card is listed."""
    from hipviz.knowledge.loader import self_care_library
    from hipviz.knowledge.schema import SELF_CARE_TOPICS

    lib = self_care_library()
    lib_refs = {r.key: r for r in lib.references}
    have = {r.key for r in refs}

    def add_refs(keys):
        for k in keys:
            if k not in have and k in lib_refs:
                r = lib_refs[k]
                refs.append(ReferenceInfo(r.key, r.citation.strip(), r.pmid, r.doi, r.unverified))
                have.add(k)

    care = []
    for a in sorted(c.self_care, key=lambda a: SELF_CARE_TOPICS.index(a.topic)):
        if a.use:
            e = lib.entries[a.use]
            patient, clinician, grade, keys = e.patient, e.clinician, e.grade, tuple(e.references)
            add_refs(keys)
        else:
            patient, clinician, grade, keys = a.patient, a.clinician, a.grade, tuple(a.references)
        care.append(SelfCareInfo(a.topic, SELF_CARE_LABELS[a.topic], patient.strip(), clinician.strip(), grade,
                                 GRADE_LABELS[grade], keys, a.use))
    topics = {a.topic for a in c.self_care}
    safety = {}
    for med in ("paracetamol", "nsaids"):
        if med in topics:
            n = lib.medicine_safety[med]
            safety[med] = {"patient": n.patient.strip(), "clinician": n.clinician.strip(),
                           "references": list(n.references)}
            add_refs(n.references)
    physio = None
    if c.urgency != "emergency":  # an emergency card keeps only its own physiotherapy topic
        n = lib.physiotherapy
        physio = {"patient": n.patient.strip(), "clinician": n.clinician.strip(), "references": list(n.references)}
        add_refs(n.references)
    return tuple(care), safety, physio


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

    if c.everyday_words:
        out += ["## Also called", ""]
        out += [f"- **{w['word']}**" + (f": {w['explanation']}" if pat else "") for w in c.everyday_words] + [""]
    two("In short", c.summary)
    two("What is going on", c.pathophysiology)
    out += ["## How the pain reaches where you feel it", "", f"**{c.referral['kind_label']}.** "
            + (c.referral["kind_explanation"]["patient"] if pat else c.referral["kind_explanation"]["clinician"]), ""]
    if pat:
        out += [c.referral["patient"], ""]
    if cli:
        out += [("**For clinicians:** " if pat else "") + c.referral["clinician"], ""]
    where = ", ".join(r["label"].lower() + (f" ({_pct(r['weight'])})" if cli else "") for r in c.pattern["regions"][:6])
    out += [f"Usually felt in: {where}. *{c.pattern['basis_label']}.*", ""]

    if c.tests and not cli:
        out += ["## How a clinician tests for it", "", TESTS_FOR_PATIENTS, ""]
    elif c.tests:
        out += ["## How a clinician tests for it", "", f"*{TESTS_HEADING}.*", ""]
        for t in c.tests:
            caveats = f"; {'; '.join(t.caveats)}" if t.caveats else ""
            out.append(f"- **{t.label}**: {t.accuracy} ({t.provenance}{caveats})")
            if cli and t.note:
                out.append(f"  - {t.note}")
        out.append("")
    out += ["## Treatment: what the trials found" if cli else "## Treatment: how well it is supported", ""]
    for t in c.treatments:      # patients read the strength of the evidence; the trial figures are for clinicians
        refs = f" [{', '.join(t.references)}]" if t.references and cli else ""
        out += [f"- **{t.intervention}** ({t.grade_label}){refs}"] + ([f"  - {t.findings}"] if cli else [])
    out.append("")
    if c.self_care:
        out += ["## Pain relief and self-care", ""]
        for x in c.self_care:
            refs = f" [{', '.join(x.references)}]" if x.references and cli else ""
            out.append(f"- **{x.topic_label}** ({x.grade_label}){refs}")
            if pat:
                out.append(f"  - {x.patient}")
            if cli:
                out.append(f"  - {'For clinicians: ' if pat else ''}{x.clinician}")
        out.append("")
        for med, note in (c.medicine_safety or {}).items():
            label = SELF_CARE_LABELS[med]
            refs = f" [{', '.join(note['references'])}]" if note["references"] else ""
            out += [f"*Who should not take {label.split(' (')[0].lower()} without advice{refs}:* "
                    + (note["patient"] if pat else note["clinician"]), ""]
    if c.physiotherapy:
        refs = f" [{', '.join(c.physiotherapy['references'])}]" if c.physiotherapy["references"] else ""
        out += ["## Seeing a physiotherapist", "", (c.physiotherapy["patient"] if pat else c.physiotherapy["clinician"])
                + refs, ""]
    if c.avoid:
        out += ["## What to avoid", ""] + [f"- {x}" for x in c.avoid] + [""]
    out += ["## When to see a clinician", ""] + [f"- {x['when']} — **{x['label']}**" for x in c.refer_when] + [""]
    out += ["## Warning signs: when to get help, and how fast", ""]
    out += [f"- {f['label']}: **{f['action']}**" for f in c.red_flags]
    out += [f"- {' + '.join(x['signs'])}: **{x['action']}**" for x in c.warning_combinations]
    if c.general_flags:
        out += ["", "Whatever the cause of the pain:" if c.red_flags or c.warning_combinations else
                "None is linked with this condition itself. Whatever the cause of the pain:", ""]
        out += [f"- {f['label']}: **{f['action']}**" for f in c.general_flags]
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
