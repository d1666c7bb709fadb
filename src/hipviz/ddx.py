"""Rank the candidate conditions for a pain map: each condition's own probability, with reasons,
rule-based alerts, what is worth telling a clinician, and the questions to ask next.

The model (every number in knowledge/ranking.yaml, section ``model``):

* **Each condition on its own.** For every condition c the ranking weighs the answers for "c"
  against "not c" and reports P(c | answers). Conditions can coexist (gluteal tendinopathy with
  L5 radiculopathy, hip osteoarthritis with L3/L4), so the probabilities do not share 100%: a map
  can match two conditions well, or none (then "something else" is high).
* **Per-condition probabilities of each answer**, never mixed likelihood ratios: a condition file
  gives P(answer | c) (for a test, its sensitivity); "not c" is the prior-weighted mixture of the
  other conditions and of "something else" (whose answers look like the average presentation).
  An item a condition does not list has P = ``unlisted_item_rate`` (tests: the per-test rate in
  ``unlisted_finding_rate``), or, when the condition lists another answer of the same group,
  ``group_item_share`` of that answer's rate. A specificity measured against pain-free controls therefore never
  enters the ranking.
* **Correlated answers count once.** ``answer_groups`` bundle answers that say much the same
  thing (a symptom and the test that provokes it, stiffness and morning stiffness, a tight belt
  and loosening it); within a group the strongest item for and the strongest against count in
  full and the others at ``residual_weight``. Painted regions are grouped the same way by
  ``region_clusters`` (neighbouring regions on one side), and the whole drawing is capped
  (``location_cap``): a drawing alone never makes a diagnosis.
* **Tempered evidence.** Each group is capped (``group_cap``: a single good test in this area has
  an LR of 3 to 10; for a condition whose file cites a stronger test in the group, that test's
  published LR, at most ``published_cap_max``). The pieces of evidence (the drawing, each answer
  group, age and sex together) are then weighed like the items of a group: the strongest piece
  for and the strongest against count at ``lead_weight``, every other piece at
  ``evidence_power`` (< 1), because further pieces partly repeat the first. A single strong,
  specific finding therefore counts as strong as it is, and many weak ones do not add up to
  certainty.
* **Patterns with several forms.** A referral pattern may list alternative typical distributions
  (``forms``, each with its weight); the drawing is scored against their mixture,
  log sum_k w_k LR_k, and the reasons name the form the map matches best.
* **A ceiling.** With probability ``misfit`` the textbook patterns do not apply to this person;
  the shown probability is (1 - misfit) × model + misfit × prior.
* **Families.** Sub-types of one problem (``families``: gluteal tendinopathy, gluteal tendon tear
  and trochanteric bursitis as lateral hip pain, GTPS) are weighed together against "none of
  them": the umbrella condition shows the family's probability, each other member the family's
  probability times its share, so near-identical sub-types no longer take probability from each
  other.
* **Location.** Each referral pattern gives P(region painted | c) = w (`W_FLOOR` for regions it
  does not list, clipped to [`W_FLOOR`, `W_CEIL`]); painted regions count log(w / B) weighted a
  little by intensity (0.5 + 0.05 × intensity), unpainted ones log((1 - w) / (1 - B)) at
  `ABSENCE_WEIGHT`, B being P(painted | not c). Sides: a ``same_side`` pattern is evaluated with
  the affected side left and right (the mirror region has `CONTRALATERAL` × w) and the two are
  averaged; ``both_sides`` and ``midline`` patterns are symmetric. Mirroring a map mirrors the
  result exactly (the right-side hypothesis is the left one on the mirrored map).
* **Demographics**: P(age band | c), read as a smooth function of age between the bands' centres,
  and the share of women, capped together.

Alerts come from clinical rules (`hipviz.triage`, knowledge/triage.yaml), not from these numbers:
warning signs and their combinations set the level (emergency, urgent, soon); emergency rules
move the conditions to rule out to the top of the list. Risk factors (age over 50, smoking, ...)
only raise the prior of the conditions they belong to and are listed under ``worth_telling``.

Reasons (`Candidate.why`) are the evidence items with their *effective* factors (after grouping,
caps and tempering), so the factors of one candidate multiply to its change in odds.
``ask_next`` ranks unanswered items by the information they would give about the leading
candidates.

Pure numpy/python (no UI imports); the per-condition arrays are built once per knowledge base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Mapping, NamedTuple

import numpy as np
import yaml

from hipviz import triage
from hipviz.painmap import REGION_IDS, SIDE_CODES, SIDE_NAMES, PainMap
from hipviz.triage import Alert
from hipviz.vocabulary import vocabulary

__all__ = [
    "DISCLAIMER",
    "Alert",
    "Candidate",
    "Model",
    "Params",
    "Question",
    "Reason",
    "Result",
    "RiskNote",
    "band",
    "model",
    "params",
    "rank",
]

DISCLAIMER = (
    "hipviz gives educational information, not a diagnosis. The ranking compares your answers with "
    "textbook patterns; only a clinician who examines you can say what is causing your pain. "
    "If anything worries you, or a warning sign applies, seek medical care."
)

# -- location constants ---------------------------------------------------------------------------
#: P(region painted | condition) for a region its pattern does not list; also the lower clip.
W_FLOOR = 0.03
#: Upper clip for pattern weights, so an unpainted "certain" region never zeroes a condition.
W_CEIL = 0.97
#: same_side conditions: chance of the mirror-image region being painted, relative to the
#: affected side (about a third of women with GTPS have it on both sides [SEGAL07]), unless the
#: pattern gives its own ``other_side_share``.
CONTRALATERAL = 0.2
#: Weight of the "not painted" evidence: people paint the worst part of a band, not all of it.
ABSENCE_WEIGHT = 0.5
#: ask_next looks at the top candidates only.
ASK_TOP = 5
ASK_COUNT = 5
#: Reasons shown per candidate, and the smallest effective factor worth a sentence (x1.2 or x1/1.2).
WHY_COUNT = 6
WHY_MIN_LOG = math.log(1.2)
#: Probabilities kept away from 0 and 1 for items.
P_CLIP = (0.005, 0.995)

#: Band label of a condition an emergency alert moved to the top.
PROMOTED_LABEL = "Rule out now"
# what a patient reads for a condition listed first because of an alert, by the alert's level
PROMOTED_LABELS = {"emergency": PROMOTED_LABEL, "urgent": "Rule out today"}

AGE_BANDS = ("under_30", "30_49", "50_69", "70_plus")
ITEM_KINDS = ("qualities", "aggravators", "relievers", "red_flags", "findings")
_SYMPTOM_KINDS = ("qualities", "aggravators", "relievers", "red_flags")
SOURCE_KINDS = ("joint", "spine", "muscle_tendon", "nerve", "bone", "vascular", "other")
BANDS = ("strong", "moderate", "weak", "unlikely")
_N_SLOTS = 3 * len(REGION_IDS)
_MIRROR = np.array([3 * (k // 3) + (0, 2, 1)[k % 3] for k in range(_N_SLOTS)])


#: Ages at which each band's likelihood applies in full: the middle of each band (under 30 read as
#: 18 to 30, 70 and over as 70 to 90). Between two of them the log likelihood ratio runs in a
#: straight line, so 49 and 50 (or 29 and 30) are not told apart by a step at the band's edge.
AGE_BAND_CENTRES = (24.0, 40.0, 60.0, 80.0)


def _age_log_lr(age_table: np.ndarray, age: float) -> np.ndarray:
    """(C,) log likelihood ratios of an age, interpolated between the bands' centres (the end
    bands' values below the first centre and above the last)."""
    return np.array([np.interp(age, AGE_BAND_CENTRES, row) for row in age_table])


def _lc(label: str) -> str:
    """Lower-case the first letter unless the label starts with an acronym (FABER, SIJ, C-sign)."""
    if len(label) > 1 and label[0].isupper() and (label[1].islower() or label[1] == " "):
        return label[0].lower() + label[1:]
    return label


def _short(name: str) -> str:
    """A condition name without its parenthetical gloss: 'Gluteal tendinopathy (sore ...)' -> 'Gluteal tendinopathy'."""
    i = name.find(" (")
    return name[:i] if i > 0 else name


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    return np.log(p) - np.log1p(-p)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# -- data: knowledge/ranking.yaml -------------------------------------------------------------------


@cache
def ranking_data() -> dict[str, Any]:
    """knowledge/ranking.yaml: model settings, groups, families, phrasings and unlisted rates."""
    return yaml.safe_load(resources.files("hipviz.knowledge").joinpath("ranking.yaml").read_text("utf-8"))


def unlisted_red_flag_rate(flag: str, data: Mapping[str, Any] | None = None) -> float:
    rates = (data or ranking_data())["unlisted_red_flag_rate"]
    return float(rates.get(flag, rates["default"]))


def unlisted_finding_rate(finding: str, data: Mapping[str, Any] | None = None) -> float:
    rates = (data or ranking_data())["unlisted_finding_rate"]
    return float(rates.get(finding, rates["default"]))


@dataclass(frozen=True)
class Params:
    """The model settings of ranking.yaml (section ``model``), bands and their labels."""

    something_else_prior: float
    evidence_power: float
    group_cap: float
    location_cap: float
    cluster_cap: float
    demographics_cap: float
    residual_weight: float
    misfit: float
    unlisted_item_rate: float
    bands: tuple[tuple[str, float], ...]  # (name, lower bound), highest first
    band_labels: dict[str, str]
    lead_weight: float = 1.0  # weight of the strongest piece of evidence for, and against, a condition
    published_cap_max: float = 3.0  # ceiling of a group's cap raised by a published likelihood ratio
    group_item_share: float = 0.0  # unlisted symptom in a group the condition lists: this share of the group's best

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Params:
        m = data["model"]
        bands = tuple(sorted(((str(k), float(x)) for k, x in data["bands"].items()), key=lambda kv: -kv[1]))
        if {b for b, _ in bands} != set(BANDS):
            raise ValueError(f"ranking.yaml bands must be exactly {', '.join(BANDS)}")
        return cls(
            something_else_prior=float(m["something_else_prior"]), evidence_power=float(m["evidence_power"]),
            group_cap=float(m["group_cap"]), location_cap=float(m["location_cap"]), cluster_cap=float(m["cluster_cap"]),
            demographics_cap=float(m["demographics_cap"]), residual_weight=float(m["residual_weight"]),
            misfit=float(m["misfit"]), unlisted_item_rate=float(m["unlisted_item_rate"]), bands=bands,
            band_labels={k: str(v) for k, v in data["band_labels"].items()},
            lead_weight=float(m.get("lead_weight", m["evidence_power"])),
            published_cap_max=float(m.get("published_cap_max", m["group_cap"])),
            group_item_share=float(m.get("group_item_share", 0.0)),
        )


@cache
def params() -> Params:
    return Params.from_data(ranking_data())


def band(probability: float, p: Params | None = None) -> str:
    """strong, moderate, weak or unlikely (thresholds in ranking.yaml ``bands``)."""
    for name, lo in (p or params()).bands:
        if probability >= lo:
            return name
    return "unlikely"


def _question(kind: str, item: str) -> str:
    v = vocabulary()
    phrased = ranking_data()["questions"].get(kind, {}).get(item)
    if phrased:
        return phrased
    if kind == "qualities":
        return f"Does the pain feel {_lc(v.qualities[item])}?"
    if kind == "aggravators":
        return f"Does {_lc(v.aggravators[item])} bring on or worsen the pain?"
    if kind == "relievers":
        return f"Does {_lc(v.relievers[item])} ease the pain?"
    if kind == "red_flags":
        return f"Warning-sign check: {_lc(v.red_flags[item])}?"
    return f"Examination: {v.findings[item]}?"


# -- result types -----------------------------------------------------------------------------------


class Reason(NamedTuple):
    """One piece of evidence for or against a candidate, as a sentence and as numbers.

    ``factor`` is the effective factor on the candidate's odds (after grouping, caps and
    tempering); the factors of one candidate multiply to its change in odds from the prior.
    """

    text: str
    factor: float
    direction: str  # "for" | "against" | "note"
    kind: str  # location, absence, form, qualities, aggravators, relievers, red_flags, finding, negative_finding, age, sex, alert, family, prior
    item: str | None = None
    source: tuple[str, ...] = ()
    plain: str = ""  # the same in words, without figures: what a patient reads

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "plain": self.plain or self.text,
            "factor": round(self.factor, 3),
            "direction": self.direction,
            "kind": self.kind,
            "item": self.item,
            "source": list(self.source),
        }


@dataclass(frozen=True)
class Candidate:
    condition: str
    name: str  # patient-facing name
    clinician_name: str
    probability: float  # this condition's own probability given the answers (0-1)
    band: str  # strong, moderate, weak, unlikely
    source_kind: str  # joint, spine, muscle_tendon, nerve, bone, vascular, other
    side: str | None  # left, right, either, both, midline, or None when nothing is painted
    urgency: str
    promoted: bool  # listed first because an emergency or urgent alert asks to rule it out
    log_odds: float  # log odds after the evidence, before the misfit ceiling
    family: str | None = None
    subtype_of: str | None = None
    promoted_level: str | None = None  # the level of the alert that listed it first
    _evidence: Any = field(default=None, repr=False, compare=False)
    _index: int = field(default=-1, repr=False, compare=False)

    @property
    def score(self) -> float:
        """The probability (the name used before the ranking was calibrated)."""
        return self.probability

    @property
    def band_label(self) -> str:
        """What a patient reads: the band ("Strong match"), or "Rule out now" for a condition an
        emergency alert moved to the top (whatever its probability)."""
        if self.promoted:
            return PROMOTED_LABELS.get(self.promoted_level or "emergency", PROMOTED_LABEL)
        return params().band_labels.get(self.band, self.band)

    @property
    def why(self) -> tuple[Reason, ...]:
        """The strongest reasons for and against, as sentences with their factors (strongest first)."""
        return self._evidence.reasons(self._index) if self._evidence is not None else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "name": self.name,
            "clinician_name": self.clinician_name,
            "side": self.side,
            "probability": round(self.probability, 4),
            "band": self.band,
            "band_label": self.band_label,
            "source_kind": self.source_kind,
            "urgency": self.urgency,
            "promoted": self.promoted,
            "promoted_level": self.promoted_level,
            "family": self.family,
            "subtype_of": self.subtype_of,
            "why": [r.text for r in self.why],
            "reasons": [r.to_dict() for r in self.why],
        }


@dataclass(frozen=True)
class RiskNote:
    """A risk factor that was ticked (or age 50 or more): worth telling a clinician."""

    id: str
    label: str
    raises: tuple[str, ...]  # condition ids whose likelihood it raises most

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "raises": list(self.raises)}


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # qualities, aggravators, relievers, red_flags, findings
    question: str  # the question with the candidates it separates
    separates: tuple[str, str]
    information_gain: float  # bits, over the top candidates
    clinician_question: str = ""  # the same, naming the conditions as clinicians do

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "clinician_question": self.clinician_question or self.question,
            "id": self.id,
            "kind": self.kind,
            "separates": list(self.separates),
            "information_gain_bits": round(self.information_gain, 4),
        }


@dataclass(frozen=True)
class Result:
    candidates: tuple[Candidate, ...]  # promoted emergencies first, then by probability
    alerts: tuple[Alert, ...]
    ask_next: tuple[Question, ...]
    something_else: float = 0.0  # probability that none of the listed conditions is the cause
    worth_telling: tuple[RiskNote, ...] = ()
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerts": [a.to_dict() for a in self.alerts],
            "candidates": [c.to_dict() for c in self.candidates],
            "something_else": {"probability": round(self.something_else, 4), "band": band(self.something_else)},
            "worth_telling": [r.to_dict() for r in self.worth_telling],
            "ask_next": [q.to_dict() for q in self.ask_next],
            "disclaimer": self.disclaimer,
        }

    def top(self, n: int = 3) -> list[str]:
        return [c.condition for c in self.candidates[:n]]


# -- the precomputed model ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Tables:
    """Log likelihood ratios of every observable against one background per condition."""

    loc_pos: np.ndarray  # (R, S) per pattern component: log(P(painted | c, form, affected side left) / B), 0 on unused slots
    loc_neg: np.ndarray  # (R, S) log(P(not painted | c, form, left) / (1 - B))
    yes: np.ndarray  # (C, I) log(P(item | c) / B)
    no: np.ndarray  # (C, I) log((1 - P(item | c)) / (1 - B))
    age: np.ndarray  # (C, 4) per age band, read at the band's centre (AGE_BAND_CENTRES)
    female: np.ndarray  # (C,)
    male: np.ndarray  # (C,)


@dataclass(frozen=True, eq=False)
class Model:
    """Per-condition arrays derived once from the knowledge base (see the module docstring)."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    clinician_names: tuple[str, ...]
    urgency: tuple[str, ...]
    source_kind: tuple[str, ...]
    same_side: np.ndarray  # (C,) bool
    side_rule: tuple[str, ...]
    prior: np.ndarray  # (C,) share of presentations, with something_else_prior kept aside
    p_region: np.ndarray  # (C, 2, S) P(slot painted | c, affected side left/right): the pattern's marginal
    comp_cond: np.ndarray  # (R,) condition of each pattern component (a condition with forms has several)
    comp_logw: np.ndarray  # (R,) log weight of the component within its condition (0 for a single form)
    comp_label: tuple[str | None, ...]  # (R,) the form's label, None for a condition without forms
    comp_start: np.ndarray  # (C,) first component of each condition (components are contiguous)
    items: tuple[tuple[str, str], ...]  # (kind, id)
    item_index: dict[tuple[str, str], int]
    p_item: np.ndarray  # (C, I) P(item | c); findings: P(test positive | c)
    listed: np.ndarray  # (C, I) bool: the condition's file lists the item
    item_source: tuple[tuple[tuple[str, ...], ...], ...]  # [c][i] reference keys of a cited finding figure
    item_group: np.ndarray  # (I,) group index
    group_cap: np.ndarray  # (C, G) cap of each answer group's log LR for each condition
    group_names: tuple[str, ...]
    slot_cluster: np.ndarray  # (S,) cluster index (-1 for unused slots)
    cluster_names: tuple[str, ...]
    vs_rest: _Tables  # against "not this condition" (not its family): the probabilities
    vs_all: _Tables  # against the average presentation: "something else" and ask_next
    family_of: tuple[str | None, ...]
    umbrella: np.ndarray  # (C,) index of the family's umbrella, or own index
    family_members: dict[str, tuple[int, ...]]
    family_labels: dict[str, str]
    params: Params
    questions: tuple[tuple[str, str], ...]  # (kind, id) for every askable item
    question_cols: np.ndarray  # (Q,) item index of each question

    @classmethod
    def from_entries(cls, entries: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> Model:
        """Build from {id: Entry(condition, pattern)} (the shape `knowledge()` returns)."""
        data = data if data is not None else ranking_data()
        prm = Params.from_data(data)
        v = vocabulary()
        ids = tuple(entries)
        conds = [entries[i].condition for i in ids]
        pats = [entries[i].pattern for i in ids]
        n = len(ids)
        if n == 0:
            raise ValueError("no conditions to rank")
        raw_prior = np.array([c.prior.value for c in conds], dtype=np.float64)
        if not np.all(raw_prior > 0):
            bad = [i for i, c in zip(ids, conds, strict=True) if c.prior.value <= 0]
            raise ValueError(f"conditions with a zero prior cannot be ranked: {bad}")
        prior = raw_prior / raw_prior.sum() * (1.0 - prm.something_else_prior)

        # families (members missing from this knowledge base are left out)
        family_of: list[str | None] = [None] * n
        umbrella = np.arange(n)
        members: dict[str, tuple[int, ...]] = {}
        labels: dict[str, str] = {}
        for fid, fam in (data.get("families") or {}).items():
            idx = tuple(ids.index(m) for m in fam["members"] if m in ids)
            if fam["umbrella"] not in ids or len(idx) < 2:
                continue
            u = ids.index(fam["umbrella"])
            for i in idx:
                if family_of[i] is not None:
                    raise ValueError(f"ranking.yaml families: {ids[i]} is in two families")
                family_of[i] = fid
                umbrella[i] = u
            members[fid] = idx
            labels[fid] = str(fam.get("label", fid))
        # exclusion matrix: "not c" leaves out c's whole family
        excl = np.zeros((n, n))
        for i in range(n):
            for j in (members[family_of[i]] if family_of[i] else (i,)):
                excl[i, j] = 1.0

        # source kinds
        sk = data.get("source_kinds") or {}
        by_cat, by_cond = sk.get("by_category") or {}, sk.get("by_condition") or {}
        source_kind = tuple(by_cond.get(c.id) or by_cat.get(c.category) or "other" for c in conds)
        for s in source_kind:
            if s not in SOURCE_KINDS:
                raise ValueError(f"ranking.yaml source_kinds: {s!r} is not one of {', '.join(SOURCE_KINDS)}")

        # location: P(slot painted | c, affected side h) for h = left (0), right (1)
        valid = np.zeros(_N_SLOTS, dtype=bool)
        for r, rid in enumerate(REGION_IDS):
            for s in v.region_sides(rid):
                valid[3 * r + SIDE_CODES[s]] = True
        same_side = np.array([p.side_rule == "same_side" for p in pats], dtype=bool)
        def slots(regions: Mapping[str, float], ci: int, pat) -> np.ndarray:
            """(2, S) P(slot painted | c, affected side left/right) for one region map."""
            out = np.zeros((2, _N_SLOTS))
            w = np.full(len(REGION_IDS), W_FLOOR)
            for rid, val in regions.items():
                w[REGION_IDS.index(rid)] = val
            w = np.clip(w, W_FLOOR, W_CEIL)
            for r, rid in enumerate(REGION_IDS):
                if rid not in v.sided_regions:
                    out[:, 3 * r] = w[r]
                elif same_side[ci]:
                    share = CONTRALATERAL if pat.other_side_share is None else pat.other_side_share
                    contra = max(W_FLOOR, share * w[r])
                    out[0, 3 * r + 1], out[0, 3 * r + 2] = w[r], contra
                    out[1, 3 * r + 1], out[1, 3 * r + 2] = contra, w[r]
                else:
                    out[:, 3 * r + 1] = w[r]
                    out[:, 3 * r + 2] = w[r]
            out[:, ~valid] = 0.5  # unused slots: neutral, masked below
            return out

        # components: one per form of a pattern (one for a pattern without forms); the pattern's
        # marginal (what "not c" sees of c) is the forms' weighted mean
        p_region = np.zeros((n, 2, _N_SLOTS))
        comp_rows: list[np.ndarray] = []
        comp_cond: list[int] = []
        comp_w: list[float] = []
        comp_label: list[str | None] = []
        comp_start = np.zeros(n, dtype=int)
        for ci, pat in enumerate(pats):
            comp_start[ci] = len(comp_rows)
            if pat.forms:
                total_w = sum(f.weight for f in pat.forms)
                for f in pat.forms:
                    comp_rows.append(slots(f.regions, ci, pat))
                    comp_cond.append(ci)
                    comp_w.append(f.weight / total_w)
                    comp_label.append(f.label)
                p_region[ci] = sum(w_ * row for w_, row in zip(comp_w[comp_start[ci]:], comp_rows[comp_start[ci]:], strict=True))
            else:
                p_region[ci] = slots(pat.regions, ci, pat)
                comp_rows.append(p_region[ci])
                comp_cond.append(ci)
                comp_w.append(1.0)
                comp_label.append(None)
        p_comp = np.stack(comp_rows)
        comp_cond_ = np.array(comp_cond)

        # region clusters
        clusters = data["region_clusters"]
        slot_cluster = np.full(_N_SLOTS, -1)
        cluster_names: list[str] = []
        seen_regions: dict[str, str] = {}
        for cname, regions in clusters.items():
            for rid in regions:
                if rid not in v.regions:
                    raise ValueError(f"ranking.yaml region_clusters {cname}: unknown region {rid!r}")
                if rid in seen_regions:
                    raise ValueError(f"ranking.yaml region_clusters: {rid} is in {seen_regions[rid]} and {cname}")
                seen_regions[rid] = cname
        missing = [r for r in REGION_IDS if r not in seen_regions]
        if missing:
            raise ValueError(f"ranking.yaml region_clusters: regions in no cluster: {missing}")
        for cname, regions in clusters.items():
            sides = {s for rid in regions for s in v.region_sides(rid)}
            for side in ("midline", "left", "right"):
                if side not in sides:
                    continue
                k = len(cluster_names)
                cluster_names.append(cname if side == "midline" else f"{cname}, {side}")
                for rid in regions:
                    if side in v.region_sides(rid):
                        slot_cluster[3 * REGION_IDS.index(rid) + SIDE_CODES[side]] = k

        # questionnaire items and findings: P(item | c)
        bands = np.array([[c.demographics.age_bands[b] for b in AGE_BANDS] for c in conds])
        bands = np.clip(bands, 0.005, None)
        bands = bands / bands.sum(axis=1, keepdims=True)
        over_50 = bands[:, 2] + bands[:, 3]
        items = tuple((kind, i) for kind in ITEM_KINDS for i in getattr(v, kind))
        item_index = {k: j for j, k in enumerate(items)}
        p_item = np.empty((n, len(items)))
        listed = np.zeros((n, len(items)), dtype=bool)
        sources: list[list[tuple[str, ...]]] = [[() for _ in items] for _ in ids]
        for j, (kind, iid) in enumerate(items):
            if kind == "red_flags":
                p_item[:, j] = over_50 if iid == "age_over_50" else unlisted_red_flag_rate(iid, data)
            elif kind == "findings":
                p_item[:, j] = unlisted_finding_rate(iid, data)
            else:
                p_item[:, j] = prm.unlisted_item_rate
        for ci, c in enumerate(conds):
            for kind in _SYMPTOM_KINDS:
                for iid, p in getattr(c, kind).items():
                    j = item_index[(kind, iid)]
                    p_item[ci, j], listed[ci, j] = p, True
            for f in c.findings:
                j = item_index[("findings", f.id)]
                p_item[ci, j], listed[ci, j] = _p_positive(f, unlisted_finding_rate(f.id, data)), True
                if f.basis == "cited" and f.references:
                    sources[ci][j] = tuple(f.references)
        p_item = np.clip(p_item, *P_CLIP)

        # answer groups
        group_of = np.full(len(items), -1)
        group_names: list[str] = []
        for gname, members_ in (data.get("answer_groups") or {}).items():
            g = len(group_names)
            group_names.append(gname)
            for key in members_:
                kind, _, iid = key.partition(".")
                if (kind, iid) not in item_index:
                    raise ValueError(f"ranking.yaml answer_groups {gname}: unknown item {key!r} (kind.id with kind one of "
                                     f"{', '.join(ITEM_KINDS)} and an id of vocabulary.yaml)")
                j = item_index[(kind, iid)]
                if group_of[j] >= 0:
                    raise ValueError(f"ranking.yaml answer_groups: {key} is in {group_names[group_of[j]]} and {gname}")
                group_of[j] = g
        _impute_within_groups(p_item, listed, group_of, len(group_names), items, prm.group_item_share)
        for j in np.flatnonzero(group_of < 0):
            group_of[j] = len(group_names)
            group_names.append(f"{items[j][0]}.{items[j][1]}")
        # each group's cap: group_cap (a single good test in this area: LR 3 to 10), raised for a
        # condition to the strongest published likelihood ratio of a cited test of that group in
        # its file (never above published_cap_max), so that a test measured to be stronger counts
        # as strong as it was measured
        group_cap = np.full((n, len(group_names)), prm.group_cap)
        for ci, c in enumerate(conds):
            for f in c.findings:
                if f.basis != "cited" or not f.references:
                    continue
                lp, ln_ = f.likelihood_ratios()
                strength = max(math.log(max(lp, 1e-9)), -math.log(max(ln_, 1e-9)))
                g = group_of[item_index[("findings", f.id)]]
                group_cap[ci, g] = max(group_cap[ci, g], min(strength, prm.published_cap_max))

        female = np.clip(np.array([c.demographics.female_fraction for c in conds]), 0.01, 0.99)
        vs_rest = _tables(prior, excl, prm.something_else_prior, p_region, valid, p_item, bands, female, p_comp, comp_cond_)
        vs_all = _tables(prior, np.zeros((n, n)), prm.something_else_prior, p_region, valid, p_item, bands, female,
                         p_comp, comp_cond_)

        questions = tuple(k for k in items if k != ("relievers", "nothing"))
        question_cols = np.array([item_index[k] for k in questions])

        return cls(
            ids=ids, names=tuple(c.names.patient for c in conds), clinician_names=tuple(c.names.clinician for c in conds),
            urgency=tuple(c.urgency for c in conds), source_kind=source_kind, same_side=same_side,
            side_rule=tuple(p.side_rule for p in pats), prior=prior, p_region=p_region, comp_cond=comp_cond_,
            comp_logw=np.log(np.array(comp_w)), comp_label=tuple(comp_label), comp_start=comp_start, items=items,
            item_index=item_index, p_item=p_item, listed=listed, item_source=tuple(tuple(r) for r in sources),
            item_group=group_of, group_cap=group_cap, group_names=tuple(group_names), slot_cluster=slot_cluster,
            cluster_names=tuple(cluster_names), vs_rest=vs_rest, vs_all=vs_all, family_of=tuple(family_of),
            umbrella=umbrella, family_members=members, family_labels=labels, params=prm,
            questions=questions, question_cols=question_cols,
        )

    # -- encoding ----------------------------------------------------------------------------------

    def encode_location(self, pm: PainMap) -> tuple[np.ndarray, np.ndarray]:
        """(painted indicator, intensity weight) per slot (region × 3 + side code)."""
        x = np.zeros(_N_SLOTS)
        a = np.zeros(_N_SLOTS)
        for r in pm.regions:
            if r.intensity > 0:
                k = 3 * _REGION_INDEX[r.region] + SIDE_CODES[r.side]
                x[k] = 1.0
                a[k] = 0.5 + 0.05 * r.intensity
        return x, a

    def answered(self, pm: PainMap) -> list[tuple[int, bool]]:
        """(item index, positive?) for every answer on the map; age_over_50 is left out when the
        age is given (the age likelihood already says it)."""
        out = []
        for kind in _SYMPTOM_KINDS:
            for i in getattr(pm, kind):
                if kind == "red_flags" and i == "age_over_50" and pm.age is not None:
                    continue
                out.append((self.item_index[(kind, i)], True))
        out += [(self.item_index[("findings", f)], True) for f in pm.findings]
        out += [(self.item_index[("findings", f)], False) for f in pm.negative_findings]
        return out

    @property
    def _cluster_order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Slots sorted by cluster (unused slots dropped), the start of each cluster, and its index."""
        def make():
            used = np.flatnonzero(self.slot_cluster >= 0)
            order = used[np.argsort(self.slot_cluster[used], kind="stable")]
            cl = self.slot_cluster[order]
            starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
            return order, starts, cl[starts]
        return self._cache("cluster_order", make)

    def _cache(self, name: str, make):
        store = self.__dict__.setdefault("_derived", {})
        if name not in store:
            store[name] = make()
        return store[name]

    # -- evidence ----------------------------------------------------------------------------------

    def _location(self, t: _Tables, x: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(R,) location log LR per pattern component and (R, S) effective per-slot contributions
        (before the power), for the affected-side-left hypothesis on this map (call with the
        mirrored map for right)."""
        n = t.loc_pos.shape[0]
        order, starts, _ = self._cluster_order
        vals = np.where(x[None, :] > 0, t.loc_pos * a[None, :], ABSENCE_WEIGHT * t.loc_neg)
        v = vals[:, order]
        w = _group_weights(v, starts, self.params.residual_weight)
        comb = np.add.reduceat(w * v, starts, axis=1)
        cap = self.params.cluster_cap
        k1 = _cap_scale(comb, cap)
        per_cluster = comb * k1
        total = per_cluster.sum(axis=1)
        k2 = _cap_scale(total, self.params.location_cap)
        lengths = np.diff(np.r_[starts, v.shape[1]])
        eff_sorted = w * v * np.repeat(k1, lengths, axis=1) * k2[:, None]
        eff = np.zeros((n, _N_SLOTS))
        eff[:, order] = eff_sorted
        return total * k2, eff

    def finding_ids_supporting(self, members) -> list[str]:
        """Findings more likely with every one of these conditions than without it (against
        "not this condition")."""
        out = []
        for j, (kind, fid) in enumerate(self.items):
            if kind == "findings" and all(self.vs_rest.yes[i, j] > 0 for i in members):
                out.append(fid)
        return out

    def _per_condition(self, v: np.ndarray) -> np.ndarray:
        """(C,) mixture over each condition's components: log sum_k w_k exp(v_k)."""
        return np.logaddexp.reduceat(self.comp_logw + v, self.comp_start)

    def _location_both(self, t: _Tables, x: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray]:
        """Location evidence under both affected-side hypotheses, per component and per condition.

        A condition's location likelihood is the mixture of its forms, P(map | c) = sum_k w_k
        P(map | c, form k), so its log LR is log sum_k w_k exp(L_k). ``ll`` (C, 2) per side
        hypothesis; ``loc`` (C,) the side-combined value the evidence uses; ``best`` (C,) the
        component that explains the map best (its reasons are the ones shown) and ``form_adj``
        (C,) what the mixture adds to that component's own log LR (0 without forms)."""
        l0, e0 = self._location(t, x, a)
        l1, e1m = self._location(t, x[_MIRROR], a[_MIRROR])
        e1 = e1m[:, _MIRROR]  # back to the map's own slots
        same = self.same_side[self.comp_cond]
        comb = np.where(same, np.logaddexp(l0, l1) - math.log(2.0), 0.5 * (l0 + l1))  # (R,) side-combined
        ll = np.stack([self._per_condition(l0), self._per_condition(l1)], axis=1)
        loc = np.where(self.same_side, np.logaddexp(ll[:, 0], ll[:, 1]) - math.log(2.0), 0.5 * (ll[:, 0] + ll[:, 1]))
        score = self.comp_logw + comb
        order = np.lexsort((-score, self.comp_cond))  # by condition, best component first
        best = order[np.r_[0, np.flatnonzero(np.diff(self.comp_cond[order])) + 1]]
        return {"l0": l0, "l1": l1, "e0": e0, "e1": e1, "ll": ll, "loc": loc, "best": best,
                "form_adj": loc - comb[best]}

    def location_loglik(self, x: np.ndarray, a: np.ndarray, t: _Tables | None = None) -> np.ndarray:
        """(C, 2) grouped and capped location log LR (before the power) with the affected side
        left / right (the mixture over a condition's forms); the right one is the left one on the
        mirrored map."""
        t = t if t is not None else self.vs_rest
        if not x.any():
            return np.zeros((len(self.ids), 2))
        return self._location_both(t, x, a)["ll"]

    def evidence(self, pm: PainMap, t: _Tables | None = None, detail: bool = False) -> dict[str, Any]:
        """The tempered evidence per condition against the background of `t` (default: "not c").

        Returns ``total`` (C,) (log odds change), ``ll`` (C, 2) location per side hypothesis,
        ``best_h`` (C,), and with ``detail`` the effective contributions for the reasons."""
        t = t if t is not None else self.vs_rest
        prm = self.params
        alpha = prm.evidence_power
        n = len(self.ids)
        x, a = self.encode_location(pm)
        painted = bool(x.any())
        best = form_adj = None
        if painted:
            lb = self._location_both(t, x, a)
            ll, loc, best, form_adj = lb["ll"], lb["loc"], lb["best"], lb["form_adj"]
            e0, e1 = lb["e0"][best], lb["e1"][best]  # the best-matching form's slot contributions
            best_h = np.where(ll[:, 1] > ll[:, 0] + 1e-9, 1, 0)
        else:
            ll = np.zeros((n, 2))
            loc = np.zeros(n)
            best_h = np.zeros(n, dtype=int)
            e0 = e1 = None
        # the pieces of evidence: the drawing, each answer group, age and sex together
        pieces: list[np.ndarray] = [loc]
        answers = self.answered(pm)
        item_eff: list[tuple[int, bool, np.ndarray, int]] = []  # (item, positive, before weighting (C,), group)
        item_piece: list[int] = []
        if answers:
            groups = self.item_group[[i for i, _ in answers]]
            order = np.argsort(groups, kind="stable")
            cols = np.array([answers[j][0] for j in order])
            pos = np.array([answers[j][1] for j in order])
            g_sorted = groups[order]
            starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
            vals = np.where(pos[None, :], t.yes[:, cols], t.no[:, cols])
            w = _group_weights(vals, starts, prm.residual_weight)
            comb = np.add.reduceat(w * vals, starts, axis=1)
            caps = self.group_cap[:, g_sorted[starts]]
            k = np.where(np.abs(comb) > caps, caps / np.maximum(np.abs(comb), 1e-300), 1.0)
            first = len(pieces)
            pieces += list((comb * k).T)
            if detail:
                eff = w * vals * np.repeat(k, np.diff(np.r_[starts, len(cols)]), axis=1)
                seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(cols)]))
                for jj in range(len(cols)):
                    item_eff.append((int(cols[jj]), bool(pos[jj]), eff[:, jj], int(g_sorted[jj])))
                    item_piece.append(first + int(seg[jj]))
        demo_eff: list[tuple[str, str, np.ndarray]] = []
        parts = []
        if pm.age is not None:
            parts.append(("age", str(pm.age), _age_log_lr(t.age, pm.age)))
        if pm.sex in ("female", "male"):
            parts.append(("sex", pm.sex, t.female if pm.sex == "female" else t.male))
        demo_piece = None
        if parts:
            demo = sum(p[2] for p in parts)
            k = _cap_scale(demo, prm.demographics_cap)
            demo_piece = len(pieces)
            pieces.append(demo * k)
            demo_eff = [(kind, item, val * k) for kind, item, val in parts]
        # Tempering: pieces of evidence are not independent, so all but the strongest piece for
        # and the strongest against count at evidence_power (those two at lead_weight): the first
        # good reason is never redundant, each further one partly repeats it.
        P = np.stack(pieces, axis=1)  # (C, pieces)
        W = _group_weights(P, np.array([0]), prm.evidence_power, lead=prm.lead_weight)
        total = (W * P).sum(axis=1)
        out = {"total": total, "ll": ll, "best_h": best_h, "painted": painted, "x": x}
        if detail:
            loc_eff = None
            wl = W[:, 0][:, None]
            if painted:
                # symmetric patterns: the reasons use the mean of both hypotheses' contributions;
                # same_side patterns pick the reported side's (see `with_side`)
                loc_eff = (wl * e0, wl * e1, wl * 0.5 * (e0 + e1))
            out.update(form=(best, None if form_adj is None else W[:, 0] * form_adj))
            wd = W[:, demo_piece] if demo_piece is not None else None
            out.update(alpha=alpha, weights=W, loc_eff=loc_eff,
                       item_eff=[(i, p, W[:, item_piece[n_]] * e, g) for n_, (i, p, e, g) in enumerate(item_eff)],
                       demo_eff=[(k_, i_, wd * e) for k_, i_, e in demo_eff])
        return out

    def probabilities(self, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability shown, log odds before the ceiling) per condition from the evidence.

        Families: the umbrella gets P(family) from the mixture of its members' evidence; each
        other member P(family) × its share."""
        prm = self.params
        log_odds = _logit(self.prior) + total
        p_model = _sigmoid(log_odds)
        prior_shown = self.prior.copy()
        for fid, idx in self.family_members.items():
            idx_ = np.array(idx)
            pi_f = self.prior[idx_].sum()
            w = self.prior[idx_] / pi_f
            m = total[idx_].max()
            mix = np.log((w * np.exp(total[idx_] - m)).sum()) + m
            lo_f = _logit(pi_f) + mix
            share = w * np.exp(total[idx_] - m)
            share = share / share.sum()
            pf = float(_sigmoid(np.array(lo_f)))
            u = int(self.umbrella[idx_[0]])
            for j, i in enumerate(idx):
                if i == u:
                    p_model[i], log_odds[i], prior_shown[i] = pf, lo_f, pi_f
                else:
                    p_model[i] = pf * share[j]
                    log_odds[i] = float(_logit(np.clip(p_model[i], 1e-12, 1 - 1e-12)))
        shown = (1.0 - prm.misfit) * p_model + prm.misfit * prior_shown
        return shown, log_odds

    def something_else(self, total_vs_all: np.ndarray) -> float:
        """P(none of the listed conditions): "something else" in the mixture of all conditions and
        an average-looking other cause, on the evidence against the average presentation."""
        prm = self.params
        z = np.log(self.prior) + total_vs_all
        m = max(z.max(), math.log(prm.something_else_prior))
        den = np.exp(z - m).sum() + math.exp(math.log(prm.something_else_prior) - m)
        p = math.exp(math.log(prm.something_else_prior) - m) / den
        return float((1.0 - prm.misfit) * p + prm.misfit * prm.something_else_prior)


def _impute_within_groups(p_item: np.ndarray, listed: np.ndarray, group_of: np.ndarray, n_groups: int,
                          items: tuple[tuple[str, str], ...], share: float) -> None:
    """Answers of one group say much the same thing, so a condition that lists one of them is not
    "uncommon" on the others its file happens not to name: an unlisted symptom of such a group
    takes ``share`` of the condition's most frequent listed member (never less than it had).
    Red flags and tests keep their own rates (population rates, measured accuracy)."""
    if share <= 0:
        return
    symptom = np.array([kind in ("qualities", "aggravators", "relievers") for kind, _ in items])
    for g in range(n_groups):
        cols = np.flatnonzero((group_of == g) & symptom)
        if len(cols) < 2:
            continue
        best = np.where(listed[:, cols], p_item[:, cols], 0.0).max(axis=1)  # (C,)
        fill = ~listed[:, cols] & (best[:, None] > 0)
        p_item[:, cols] = np.where(fill, np.maximum(p_item[:, cols], share * best[:, None]), p_item[:, cols])


def _p_positive(f, rate: float) -> float:
    """P(test positive | condition) from a finding: its sensitivity; from LR+ and LR- the
    sensitivity they imply; from LR+ alone, LR+ times the rate among people without it."""
    if f.sensitivity is not None:
        return float(f.sensitivity)
    lp, ln = f.lr_positive, f.lr_negative
    if ln is not None and abs(lp - ln) > 1e-9:
        return float(np.clip(lp * (1.0 - ln) / (lp - ln), 0.01, 0.99))
    return float(min(0.9, lp * rate))


def _tables(prior: np.ndarray, excl: np.ndarray, other_prior: float, p_region: np.ndarray, valid: np.ndarray,
            p_item: np.ndarray, bands: np.ndarray, female: np.ndarray, p_comp: np.ndarray | None = None,
            comp_cond: np.ndarray | None = None) -> _Tables:
    """Log likelihood ratios against, for each condition c, the prior-weighted mixture of the
    conditions not excluded by `excl[c]` and of "something else" (which answers like the average).
    Location rows are per pattern component (`p_comp`, of condition `comp_cond`), each against its
    condition's background."""
    if p_comp is None:
        p_comp, comp_cond = p_region, np.arange(len(prior))
    share = prior.sum()

    def background(p: np.ndarray) -> np.ndarray:  # p: (C, F) -> (C, F)
        mean = (prior @ p) / share  # the average presentation ("something else" answers like it)
        total = prior @ p + other_prior * mean
        out = (total[None, :] - excl @ (prior[:, None] * p)) / (1.0 - excl @ prior)[:, None]
        return np.clip(out, 1e-6, 1 - 1e-6)

    q = p_region.mean(axis=1)  # the background does not know the side
    b_loc = background(q)[comp_cond]
    left = p_comp[:, 0, :]
    loc_pos = np.where(valid, np.log(left / b_loc), 0.0)
    loc_neg = np.where(valid, np.log((1.0 - left) / (1.0 - b_loc)), 0.0)
    b_item = background(p_item)
    b_age = background(bands)
    b_f = background(female[:, None])[:, 0]
    return _Tables(
        loc_pos=np.ascontiguousarray(loc_pos), loc_neg=np.ascontiguousarray(loc_neg),
        yes=np.log(p_item / b_item), no=np.log((1.0 - p_item) / (1.0 - b_item)),
        age=np.log(bands / b_age), female=np.log(female / b_f), male=np.log((1.0 - female) / (1.0 - b_f)),
    )


def _group_weights(v: np.ndarray, starts: np.ndarray, residual: float, lead: float = 1.0) -> np.ndarray:
    """Weights of the items of each group (columns from each start to the next): the strongest
    positive and the strongest negative item count `lead` (the first one on a tie), the others
    `residual`. Vectorised over rows and groups."""
    n, s = v.shape
    if s == 0:
        return np.ones((n, 0))
    lengths = np.diff(np.r_[starts, s])
    seg = np.repeat(np.arange(len(starts)), lengths)
    w = np.full(v.shape, residual)
    for red, sign in ((np.maximum, 1.0), (np.minimum, -1.0)):
        ext = red.reduceat(v, starts, axis=1)[:, seg]
        hit = (v == ext) & (sign * v > 0)
        cs = np.cumsum(hit, axis=1)
        before = np.where(starts > 0, cs[:, np.maximum(starts - 1, 0)], 0)[:, seg]
        w = np.where(hit & (cs - before == 1), lead, w)
    return w


def _cap_scale(x: np.ndarray, cap: float) -> np.ndarray:
    """Factor that brings x into [-cap, cap] (1 where it already is)."""
    ax = np.abs(x)
    return np.where(ax > cap, cap / np.maximum(ax, 1e-300), 1.0)


_REGION_INDEX = {r: i for i, r in enumerate(REGION_IDS)}
_SLOT_META = [(REGION_IDS[k // 3], SIDE_NAMES[k % 3]) for k in range(_N_SLOTS)]


@cache
def model() -> Model:
    """The model of the shipped knowledge base (built once)."""
    from hipviz.knowledge.loader import knowledge

    return Model.from_entries(knowledge())


# -- ranking ----------------------------------------------------------------------------------------


def rank(painmap: PainMap, model_: Model | None = None) -> Result:
    """Rank all conditions for a pain map: candidates, alerts, something else, what is worth
    telling a clinician, questions, disclaimer."""
    m = model_ if model_ is not None else model()
    ev = m.evidence(painmap, m.vs_rest, detail=True)
    prob, log_odds = m.probabilities(ev["total"])
    ev_all = m.evidence(painmap, m.vs_all)
    other = m.something_else(ev_all["total"])

    painted_regions = {r.region for r in painmap.regions if r.intensity > 0}
    alerts = triage.evaluate(painmap.red_flags, painmap.findings, painmap.age, painted_regions)
    # a warning sign puts the conditions it warns about on the list, whatever their probability
    # (a clinician rules them out first): an emergency rule's promoted conditions come first,
    # then those an urgent rule asks to rule out today; the probabilities stay what they are
    promoted_order: list[int] = []
    promoted_level: dict[int, str] = {}
    for a in alerts:  # most urgent first; only emergency and urgent alerts list anything first
        for cid in a.promote:
            if cid in m.ids and m.ids.index(cid) not in promoted_level:
                promoted_order.append(m.ids.index(cid))
                promoted_level[m.ids.index(cid)] = a.level
    promoted = np.zeros(len(m.ids), dtype=bool)
    promoted[promoted_order] = True
    rest = sorted((i for i in range(len(m.ids)) if not promoted[i]), key=lambda i: (-_order_key(prob[i]), i))
    order = promoted_order + rest

    sides = _sides(m, painmap, ev["x"], ev["ll"], ev["best_h"])
    # the side hypothesis behind each condition's reasons: the side it is reported on
    ev["h"] = np.array([1 if (m.same_side[i] and sides[i] == "right") else 0 for i in range(len(m.ids))])
    why = _Evidence(m, painmap, ev, sides, promoted, prob, alerts)
    prm = m.params
    candidates = tuple(
        Candidate(
            condition=m.ids[i], name=m.names[i], clinician_name=m.clinician_names[i], probability=float(prob[i]),
            band=band(float(prob[i]), prm), source_kind=m.source_kind[i], side=sides[i], urgency=m.urgency[i],
            promoted=bool(promoted[i]), promoted_level=promoted_level.get(i), log_odds=float(log_odds[i]), family=m.family_of[i],
            subtype_of=(m.ids[m.umbrella[i]] if m.family_of[i] and m.umbrella[i] != i else None),
            _evidence=why, _index=i,
        )
        for i in order
    )
    ask = _ask_next(m, painmap, prob)
    return Result(candidates=candidates, alerts=alerts, ask_next=ask, something_else=other,
                  worth_telling=_worth_telling(m, painmap))


def _order_key(p: float) -> float:
    """Order key: probabilities equal to 12 decimals tie (then vocabulary order decides)."""
    return round(float(p), 12)


def _worth_telling(m: Model, pm: PainMap) -> tuple[RiskNote, ...]:
    v = vocabulary()
    risk = triage.rules().risk_factors
    present = triage.present_ids(pm.red_flags, (), pm.age)
    out = []
    for f in risk:
        if f not in present:
            continue
        out.append(RiskNote(f, v.red_flags[f], raised_by(f, m)[:4]))
    return tuple(out)


def raised_by(flag: str, m: Model | None = None) -> tuple[str, ...]:
    """The conditions an answer makes at least 1.5 times as likely (their files list it), most
    raised first: where a risk factor is worth telling a clinician about."""
    m = m or model()
    j = m.item_index[("red_flags", flag)]
    lr = m.vs_rest.yes[:, j]
    return tuple(m.ids[i] for i in np.argsort(-lr, kind="stable") if lr[i] >= math.log(1.5) and m.listed[i, j])


def _sides(m: Model, pm: PainMap, x: np.ndarray, ll: np.ndarray, best_h: np.ndarray) -> list[str | None]:
    if not x.any():
        return [None] * len(m.ids)
    painted_sides = {r.side for r in pm.regions if r.intensity > 0}
    sided = painted_sides - {"midline"}
    if sided == {"left", "right"}:
        spread = "both"
    elif sided:
        spread = next(iter(sided))
    else:
        spread = "midline"
    out: list[str | None] = []
    for i in range(len(m.ids)):
        if m.same_side[i]:
            if abs(ll[i, 0] - ll[i, 1]) < 1e-9:  # the map does not favour a side for this pattern
                # a one-sided problem on a map that names no side (both, or the midline only)
                out.append("either" if spread in ("both", "midline") else spread)
            else:
                out.append("right" if best_h[i] == 1 else "left")
        elif m.side_rule[i] == "midline":
            out.append("midline")
        else:
            out.append(spread)
    return out


def _verdict(log_f: float, present: bool = True) -> tuple[str, str]:
    f = math.exp(log_f)
    if f >= 2:
        return ("typical" if present else "supports"), "for"
    if f >= 1:
        return "fits", "for"
    if f <= 0.5:
        return ("unusual" if present else "against"), "against"
    return "less typical", "against"


def _fmt(f: float) -> str:
    return f"x{f:.1f}" if f >= 0.095 else f"x{f:.2f}"


@cache
def _labels() -> dict[str, dict[str, str]]:
    v = vocabulary()
    return {
        "location": dict(v.regions),
        "absence": {k: _lc(x) for k, x in v.regions.items()},
        "qualities": dict(v.qualities),
        "aggravators": dict(v.aggravators),
        "relievers": {k: f"eased by {_lc(x)}" for k, x in v.relievers.items()},
        "red_flags": dict(v.red_flags),
        "findings": dict(v.findings),
    }


class _Evidence:
    """The effective evidence of one ranking; sentences are written per candidate on first request.

    For each condition the items are ordered by the size of their effective factor; location
    evidence for the same region on both sides with the same factor becomes one sentence, so
    that mirroring the map mirrors the reasons exactly."""

    def __init__(self, m: Model, pm: PainMap, ev: dict[str, Any], sides, promoted, prob, alerts):
        self.m, self.pm, self.ev, self.sides, self.promoted, self.prob, self.alerts = m, pm, ev, sides, promoted, prob, alerts
        self.empty = not (pm.has_pain or pm.qualities or pm.aggravators or pm.relievers or pm.red_flags or pm.findings
                          or pm.negative_findings or pm.age is not None or pm.sex is not None)
        self._done: dict[int, tuple[Reason, ...]] = {}

    def _items(self, i: int) -> list[tuple[float, tuple]]:
        """(effective log factor, meta) of every evidence item of condition i."""
        m, ev = self.m, self.ev
        out: list[tuple[float, tuple]] = []
        x = ev["x"]
        le = ev.get("loc_eff")
        if le is not None:
            e0, e1, mean = le
            row = (e1 if ev["h"][i] == 1 else e0)[i] if m.same_side[i] else mean[i]
            done = set()
            for k in np.flatnonzero(np.abs(row) > 0).tolist():
                if k in done:
                    continue
                region, side = _SLOT_META[k]
                kind = "location" if x[k] > 0 else "absence"
                if side in ("left", "right"):
                    k2 = _MIRROR[k]
                    if (x[k2] > 0) == (x[k] > 0) and abs(row[k2] - row[k]) < 1e-12:
                        done.add(int(k2))
                        out.append((float(row[k]), (kind, region, "both", None)))
                        continue
                out.append((float(row[k]), (kind, region, side, None)))
        best, adj = ev.get("form", (None, None))
        if best is not None and m.comp_label[best[i]] is not None:
            out.append((float(adj[i]), ("form", m.comp_label[best[i]], None, None)))
        # grouped answers: name the leading item of a group on the others
        by_group: dict[int, list[tuple[int, bool, float]]] = {}
        for item, positive, eff, g in ev["item_eff"]:
            by_group.setdefault(g, []).append((item, positive, float(eff[i])))
        for g, rows in by_group.items():
            lead = max(rows, key=lambda r: abs(r[2]))
            for item, positive, e in rows:
                partner = lead[0] if (len(rows) > 1 and item != lead[0]) else None
                out.append((e, ("finding" if positive else "negative_finding", item, None, partner)
                            if m.items[item][0] == "findings" else (m.items[item][0], item, None, partner)))
        for kind, item, eff in ev["demo_eff"]:
            out.append((float(eff[i]), (kind, item, None, None)))
        return out

    def reasons(self, i: int) -> tuple[Reason, ...]:
        got = self._done.get(i)
        if got is not None:
            return got
        m, v = self.m, vocabulary()
        all_items = self._items(i)
        items = [(e, meta) for e, meta in all_items if abs(e) >= WHY_MIN_LOG and meta[0] != "form"]
        items.sort(key=lambda em: -abs(em[0]))  # stable: ties keep the construction order
        out = [_reason(m, i, int(self.ev["h"][i]), meta, e, v) for e, meta in items[:WHY_COUNT]]
        # which typical form the painted map matches: always said, after the evidence
        out += [_reason(m, i, int(self.ev["h"][i]), meta, e, v) for e, meta in all_items if meta[0] == "form"]
        if self.promoted[i]:
            lead = [a for a in self.alerts if m.ids[i] in a.promote]
            level = lead[0].level if lead else "emergency"
            signs = [v.red_flags.get(s) or v.findings.get(s, s) for a in lead if a.level == level for s in a.warning_signs]
            text = f"moved to the top: {level} warning sign ({'; '.join(dict.fromkeys(signs))})"
            out.insert(0, Reason(text, 1.0, "note", "alert", plain=text))
        fam = m.family_of[i]
        if fam:
            u = int(m.umbrella[i])
            if u == i:
                subs = [j for j in m.family_members[fam] if j != i]
                head = f"covers {m.family_labels[fam].lower()}, including its sub-types"
                out.append(Reason(f"{head} ({'; '.join(f'{_short(m.names[j])} {100 * self.prob[j]:.0f}%' for j in subs)})",
                                  1.0, "note", "family", fam,
                                  plain=f"{head} ({'; '.join(_short(m.names[j]).lower() for j in subs)})"))
            else:
                share = self.prob[i] / self.prob[u] if self.prob[u] > 0 else 0.0
                out.append(Reason(f"a sub-type of {_short(m.names[u])}: {100 * share:.0f}% of its probability",
                                  1.0, "note", "family", fam, plain=f"one kind of {_short(m.names[u]).lower()}"))
        if self.empty:
            text = "no pain painted and no answers yet: ranked by how common it is"
            out.append(Reason(text, 1.0, "note", "prior", plain=text))
        self._done[i] = got = tuple(out)
        return got


def _reason(m: Model, ci: int, h: int, meta: tuple, log_f: float, v) -> Reason:
    """One sentence for one evidence item of condition `ci` (h: the affected-side hypothesis)."""
    kind, item, extra, partner = meta
    f = math.exp(log_f)
    labels = _labels()
    if kind in ("location", "absence"):
        label = labels[kind][item]
        where = f"{label}, both sides" if extra == "both" else label if extra == "midline" else f"{label}, {extra}"
        each = " each" if extra == "both" else ""
        if kind == "location":
            word, direction = _verdict(log_f)
            other = bool(m.same_side[ci]) and extra in ("left", "right") and extra != ("right" if h == 1 else "left")
            plain = f"{where}{' (other side)' if other else ''}: {word}"
            return Reason(f"{plain} ({_fmt(f)}{each})", f, direction, kind, item, plain=plain)
        plain = f"No pain at {where}: {'less typical' if f < 1 else 'fits'}"
        return Reason(f"{plain} ({_fmt(f)}{each})", f, "against" if f < 1 else "for", kind, item, plain=plain)
    if kind == "form":
        # the mixture's own factor: the share of the best-matching form (plus what the other
        # forms add); the location reasons beside it are that form's
        plain = f"pain pattern: matches {item}, one of its typical forms"
        return Reason(f"{plain} (that form's share of the pattern: {_fmt(f)})", f, "note", "form", item, plain=plain)
    if kind in ("age", "sex"):
        if kind == "age":
            plain = f"age {item}: {'a typical age' if f > 1 else 'an unusual age'}"
            return Reason(f"{plain} ({_fmt(f)})", f, "for" if f > 1 else "against", kind, item, plain=plain)
        who = "women" if item == "female" else "men"
        plain = f"{item}: {'more' if f > 1 else 'less'} common in {who}"
        return Reason(f"{plain} ({_fmt(f)})", f, "for" if f > 1 else "against", kind, item, plain=plain)
    ikind, iid = m.items[item]
    also = ""
    if partner is not None:
        pk, pid = m.items[partner]
        plabel = labels[pk][pid]
        also = f"; counted together with '{_lc(plabel)}'"
    if kind in ("finding", "negative_finding"):
        src = m.item_source[ci][item]
        # the factor is the model's; the label says where the test's accuracy comes from
        basis = f"accuracy published [{', '.join(src)}]" if src else "accuracy: estimate"
        found = "(found)" if kind == "finding" else ": tested, not found"
        plain = f"{labels['findings'][iid]}{' ' if kind == 'finding' else ''}{found}: {'supports' if f > 1 else 'against'}"
        return Reason(f"{plain} ({_fmt(f)}; {basis}{also})", f, "for" if f > 1 else "against", kind, iid, src, plain=plain)
    word, direction = _verdict(log_f)
    plain = f"{labels[ikind][iid]}: {word}"
    return Reason(f"{plain} ({_fmt(f)}{also})", f, direction, ikind, iid, plain=plain)


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Entropy in bits along `axis` (0 log 0 = 0)."""
    return -(p * np.log2(np.maximum(p, 1e-300))).sum(axis=axis)


def _ask_next(m: Model, pm: PainMap, prob: np.ndarray) -> tuple[Question, ...]:
    # sub-types share their umbrella's probability: ask about the leading candidates
    top = np.array(sorted(range(len(m.ids)), key=lambda i: (-_order_key(prob[i]), i))[:ASK_TOP])
    if len(top) < 2:
        return ()
    q = prob[top] / prob[top].sum()
    open_ = np.ones(len(m.questions), dtype=bool)
    answered = {(kind, i) for kind in _SYMPTOM_KINDS for i in getattr(pm, kind)}
    answered |= {("findings", f) for f in (*pm.findings, *pm.negative_findings)}
    if pm.age is not None:
        answered.add(("red_flags", "age_over_50"))
    for j, key in enumerate(m.questions):
        if key in answered:
            open_[j] = False
    cols = np.flatnonzero(open_)
    if cols.size == 0:
        return ()
    p = np.clip(m.p_item[top][:, m.question_cols[cols]], 1e-4, 1 - 1e-4)  # (K, Q)
    py = q @ p
    post_yes = q[:, None] * p / py
    post_no = q[:, None] * (1 - p) / (1 - py)
    gain = _entropy(q) - py * _entropy(post_yes, axis=0) - (1 - py) * _entropy(post_no, axis=0)
    out = []
    for j in np.argsort(-gain, kind="stable").tolist():
        if gain[j] < 1e-3 or len(out) >= ASK_COUNT:
            break
        kind, item = m.questions[cols[j]]
        col = p[:, j]
        hi, lo = int(np.argmax(col)), int(np.argmin(col))
        if hi == lo or col[hi] - col[lo] < 0.05:
            continue
        a, b = int(top[hi]), int(top[lo])
        asked = _question(kind, item)
        text = f"{asked} (separates {_short(m.names[a])} from {_short(m.names[b])})"
        clin = f"{asked} (separates {m.clinician_names[a]} from {m.clinician_names[b]})"
        out.append(Question(item, kind, text, (m.ids[a], m.ids[b]), float(gain[j]), clin))
    return tuple(out)
