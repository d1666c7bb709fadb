"""Schema of a condition file (conditions/<id>.yaml) and a referral pattern (pain_maps/patterns/<id>.json).

Probabilities are P(feature | condition) for a person with that condition: the ranking compares
them with the prior-weighted average over all conditions, so each feature counts as a likelihood
ratio. Every figure says whether it is cited (with reference keys) or an estimate.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hipviz.vocabulary import vocabulary

Probability = float
Basis = Literal["cited", "estimate"]
#: What a reader of a test's accuracy must be told (explain.CAVEAT_LABELS has the words).
Caveat = Literal[
    "control_based_specificity",  # specificity measured against people without the complaint
    "interval_crosses_1",  # the likelihood ratio's confidence interval includes 1
    "criteria_set",  # the published accuracy belongs to a set of criteria, not to this sign alone
    "other_target_condition",  # the published accuracy is for a related condition, not this one
    "small_sample",
]
Register = Literal["patient", "clinician"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_ids(values, allowed, what: str):
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} id(s) {unknown}; allowed: {', '.join(sorted(allowed))}")
    return values


def _check_probabilities(mapping: dict[str, float]) -> dict[str, float]:
    for k, p in mapping.items():
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"{k}: probability {p} is outside 0..1")
    return mapping


class TwoRegisters(Strict):
    """The same idea in plain words for patients and in precise words for clinicians."""

    patient: str = Field(min_length=20)
    clinician: str = Field(min_length=20)


class Names(Strict):
    patient: str
    clinician: str


class Reference(Strict):
    key: str = Field(pattern=r"^[A-Z0-9_a-z]+$")
    citation: str = Field(min_length=20)
    pmid: str | None = Field(default=None, pattern=r"^\d{5,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    # Citation details that could not be checked are said so here, never guessed.
    unverified: str | None = None

    @model_validator(mode="after")
    def _has_identifier(self):
        if not (self.pmid or self.doi or self.unverified):
            raise ValueError(f"reference {self.key}: give a PMID or a DOI, or say in 'unverified' why neither is known")
        return self


class Estimate(Strict):
    """A number with its provenance: cited (reference keys) or an estimate (note says why)."""

    value: float = Field(ge=0.0, le=1.0)
    basis: Basis
    references: list[str] = []
    note: str = ""

    @model_validator(mode="after")
    def _cited_has_refs(self):
        if self.basis == "cited" and not self.references:
            raise ValueError("a cited figure needs at least one reference key")
        return self


#: How pain reaches where it is felt (DESIGN.md section 5). ``local``: felt where the structure is
#: (tendon, bursa, muscle, joint, bone). ``somatic_referred``: felt away from its source through
#: shared segmental supply (facet and sacroiliac joints, the hip joint to the knee, muscle trigger
#: points); not a trapped nerve. ``radicular``: a nerve root, then its nerve, then its dermatome.
#: ``nerve_entrapment``: a peripheral nerve trapped on its way, felt in that nerve's territory.
#: ``vascular``: pain from the blood supply (a narrowed artery starving the muscles downstream, or
#: an expanding artery stretching its wall).
PathKind = Literal["local", "somatic_referred", "radicular", "nerve_entrapment", "vascular"]

#: The kind a path has when its file does not say (files written before ``kind`` existed).
DEFAULT_PATH_KIND = {
    "nerve_root": "radicular", "peripheral_nerve": "nerve_entrapment", "visceral": "vascular",
    "vascular": "vascular", "muscle": "local", "tendon": "local", "joint": "local", "bone": "local",
    "systemic": "local",
}


class ReferralPath(Strict):
    """How the pain reaches the skin: ordered atlas base ids from the source to the skin zone.

    ``mechanism`` is the tissue the pain comes from; ``kind`` is how it reaches where it is felt
    (optional for older files: derived from the mechanism, see `DEFAULT_PATH_KIND`)."""

    mechanism: Literal[
        "nerve_root", "peripheral_nerve", "muscle", "tendon", "joint", "bone", "visceral", "vascular", "systemic",
    ]
    kind: PathKind | None = None
    segments: list[str] = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    explanation: TwoRegisters
    # One sentence that replaces the generated "why" when the atlas cannot draw the real source
    # (a muscle or nerve root that has no mesh): it says what is lit instead.
    why: str | None = Field(default=None, min_length=20)

    @property
    def path_kind(self) -> str:
        return self.kind or DEFAULT_PATH_KIND[self.mechanism]

    @field_validator("segments")
    @classmethod
    def _segments(cls, v):
        for s in v:
            if not (s[:1] in "TLSC" and s[1:].isdigit()):
                raise ValueError(f"segment {s!r} is not like T12, L5, S1")
        return v


class Demographics(Strict):
    """Age bands P(age band | condition) and the share of women, with provenance."""

    age_bands: dict[Literal["under_30", "30_49", "50_69", "70_plus"], Probability]
    female_fraction: float = Field(ge=0.0, le=1.0)
    basis: Basis
    references: list[str] = []
    note: str = ""

    @field_validator("age_bands")
    @classmethod
    def _sums_to_one(cls, v):
        if abs(sum(v.values()) - 1.0) > 0.02 or len(v) != 4:
            raise ValueError("age_bands must give all four bands, summing to 1")
        return v


class Finding(Strict):
    """A clinician's test or sign with its published accuracy (sens/spec or likelihood ratios)."""

    id: str
    sensitivity: float | None = Field(default=None, ge=0.0, le=1.0)
    specificity: float | None = Field(default=None, ge=0.0, le=1.0)
    lr_positive: float | None = Field(default=None, gt=0.0)
    lr_negative: float | None = Field(default=None, gt=0.0)
    basis: Basis
    references: list[str] = []
    note: str = ""
    caveats: list[Caveat] = []

    @field_validator("id")
    @classmethod
    def _known(cls, v):
        _check_ids([v], vocabulary().findings, "finding")
        return v

    @model_validator(mode="after")
    def _has_accuracy(self):
        if self.lr_positive is None and (self.sensitivity is None or self.specificity is None):
            raise ValueError(f"finding {self.id}: give sensitivity and specificity, or lr_positive")
        if self.basis == "cited" and not self.references:
            raise ValueError(f"finding {self.id}: a cited figure needs reference keys")
        return self

    def likelihood_ratios(self) -> tuple[float, float]:
        """(LR+, LR-), derived from sensitivity/specificity when not given directly."""
        if self.lr_positive is not None:
            return self.lr_positive, self.lr_negative if self.lr_negative is not None else 1.0
        sens, spec = self.sensitivity, self.specificity
        return sens / max(1.0 - spec, 0.01), max(1.0 - sens, 0.01) / max(spec, 0.01)


#: Self-care and pain-relief topics, in the order a card shows them.
SELF_CARE_TOPICS = (
    "what_to_do_now", "paracetamol", "nsaids", "other_medicines", "ice_heat", "activity", "posture",
    "strengthening", "injections", "surgery", "physiotherapy",
)
SelfCareTopic = Literal[
    "what_to_do_now", "paracetamol", "nsaids", "other_medicines", "ice_heat", "activity", "posture",
    "strengthening", "injections", "surgery", "physiotherapy",
]
Grade = Literal["strong", "moderate", "limited", "very_limited", "expert_opinion", "recommend_against"]


class SelfCare(Strict):
    """One piece of pain-relief or self-care advice: either ``use`` (an entry of the shared library
    knowledge/self_care.yaml, the same advice for several conditions) or the condition's own text
    in both registers. ``grade``: the strength of the evidence behind it; uncited advice says
    expert_opinion."""

    topic: SelfCareTopic
    use: str | None = None
    patient: str | None = Field(default=None, min_length=20)
    clinician: str | None = Field(default=None, min_length=20)
    grade: Grade | None = None
    references: list[str] = []

    @model_validator(mode="after")
    def _text_or_use(self):
        own = self.patient is not None or self.clinician is not None
        if self.use and (own or self.references or self.grade):
            raise ValueError(f"self_care {self.topic}: give either 'use' or your own text, grade and references")
        if not self.use and not (self.patient and self.clinician and self.grade):
            raise ValueError(f"self_care {self.topic}: give 'use', or patient and clinician text and a grade")
        return self


class EverydayWord(Strict):
    """A word people use for the condition ("tendonitis", "sciatica"), with what it means here."""

    word: str = Field(min_length=2)
    explanation: str = Field(min_length=20)


class ReferWhen(Strict):
    """When to see a clinician, and how fast. The level is data, never words in ``when``, so the
    card says it in the alerts' own words; ``signs`` (all of them) with one of ``any_of`` (and a
    ``painted`` region) name the warning signs it describes, and the triage rules must give that
    level for them (tests/test_triage.py): a card never says sooner or later than the alert."""

    when: str = Field(min_length=10)
    level: Literal["emergency", "urgent", "soon", "routine"]
    signs: list[str] = []
    any_of: list[str] = []
    painted: list[str] = []

    @field_validator("when")
    @classmethod
    def _no_level_words(cls, v):
        words = re.findall(REFER_LEVEL_WORDS, v, flags=re.IGNORECASE)
        if words:
            raise ValueError(f"{v!r}: says how fast ({', '.join(words)}); give it as level instead")
        return v

    @field_validator("signs", "any_of")
    @classmethod
    def _signs(cls, v):
        voc = vocabulary()
        return _check_ids(v, set(voc.red_flags) | set(voc.findings), "warning sign")

    @field_validator("painted")
    @classmethod
    def _regions(cls, v):
        return _check_ids(v, vocabulary().regions, "region")


#: Words that say how fast; in a refer_when entry the level says it.
REFER_LEVEL_WORDS = (r"\b(emergency|ambulance|same[- ]day|today|urgent(?:ly)?|soon|promptly|immediately|"
                     r"right away|straight away|now)\b")


class Treatment(Strict):
    intervention: str
    findings: str = Field(min_length=20)  # what the trials found: names, effect sizes, time points
    grade: Grade
    references: list[str] = []


class Condition(Strict):
    id: str
    names: Names
    category: Literal[
        "tendon", "bursa", "muscle", "myofascial", "nerve_root", "nerve_entrapment", "joint", "bone",
        "neural_emergency", "vascular_emergency", "vascular", "systemic",
    ]
    urgency: Literal["routine", "soon", "urgent", "emergency"]
    source_structures: list[str] = Field(min_length=1)
    referral_path: ReferralPath
    qualities: dict[str, Probability] = {}
    aggravators: dict[str, Probability] = {}
    relievers: dict[str, Probability] = {}
    red_flags: dict[str, Probability] = {}
    demographics: Demographics
    prior: Estimate
    findings: list[Finding] = []
    summary: TwoRegisters
    pathophysiology: TwoRegisters
    treatments: list[Treatment] = Field(min_length=1)
    avoid: list[str] = []
    refer_when: list[ReferWhen] = Field(min_length=1)
    references: list[Reference] = Field(min_length=1)
    # Optional (added later; older files without them stay valid):
    everyday_words: list[EverydayWord] = []  # what people call it; searched and explained
    self_care: list[SelfCare] = []  # pain relief and self-care, per topic

    @field_validator("id")
    @classmethod
    def _known_condition(cls, v):
        _check_ids([v], vocabulary().conditions, "condition")
        return v

    @field_validator("qualities")
    @classmethod
    def _q(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().qualities, "quality"))

    @field_validator("aggravators")
    @classmethod
    def _a(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().aggravators, "aggravator"))

    @field_validator("relievers")
    @classmethod
    def _r(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().relievers, "reliever"))

    @field_validator("red_flags")
    @classmethod
    def _f(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().red_flags, "red flag"))

    @model_validator(mode="after")
    def _references_resolve(self):
        keys = {r.key for r in self.references}
        if len(keys) != len(self.references):
            raise ValueError("duplicate reference keys")
        used = set(self.prior.references) | set(self.demographics.references)
        for f in self.findings:
            used |= set(f.references)
        for t in self.treatments:
            used |= set(t.references)
        for a in self.self_care:
            used |= set(a.references)
        missing = sorted(used - keys)
        if missing:
            raise ValueError(f"reference keys used but not listed under references: {missing}")
        ids = [f.id for f in self.findings]
        if len(ids) != len(set(ids)):
            raise ValueError("a finding is listed twice")
        words = [w.word.lower() for w in self.everyday_words]
        if len(words) != len(set(words)):
            raise ValueError("an everyday word is listed twice")
        return self


class PatternForm(Strict):
    """One typical distribution of a condition that has several (arterial claudication in the calf
    or in the buttock and thigh; a root's pain felt only in the buttock and thigh or down the whole
    leg): region -> P(pain there | this form), and how often the form occurs among people with the
    condition (``weight``), cited or an estimate."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    # how a reason names it: "matches the buttock-and-thigh form"
    label: str = Field(min_length=5)
    weight: float = Field(gt=0.0, le=1.0)
    regions: dict[str, Probability] = Field(min_length=1)
    basis: Basis
    references: list[str] = []
    note: str = ""

    @field_validator("regions")
    @classmethod
    def _regions(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().regions, "region"))

    @model_validator(mode="after")
    def _cited_has_refs(self):
        if self.basis == "cited" and not self.references:
            raise ValueError(f"form {self.id}: a cited weight needs reference keys")
        return self


class ReferralPattern(Strict):
    """Where a condition is felt: region -> P(pain there | condition), with the side rule and basis.

    ``regions`` is the pattern as drawn (the textbook map hatched over a painting). A condition
    whose pain has several typical distributions also lists them as ``forms``: the ranking then
    scores a painted map against the mixture of the forms (each weighted by how often it occurs),
    not against their average, so a map that matches one form well is not penalised for leaving
    the other form's regions unpainted."""

    format: Literal["hipviz-referral-pattern"]
    version: Literal[1]
    condition: str
    side_rule: Literal["same_side", "both_sides", "midline"]
    basis: Literal["study", "expert_opinion", "clinical_consensus"]
    regions: dict[str, Probability] = Field(min_length=1)
    # same_side patterns: chance that the mirror-image region also hurts, relative to the affected
    # side (the ranking's default when not given); say where the figure comes from in `note`.
    other_side_share: Probability | None = Field(default=None, ge=0.0, le=1.0)
    references: list[str] = []
    note: str = ""
    # Optional: alternative typical distributions (at least two, weights summing to 1).
    forms: list[PatternForm] = []

    @field_validator("regions")
    @classmethod
    def _regions(cls, v):
        return _check_probabilities(_check_ids(v, vocabulary().regions, "region"))

    @model_validator(mode="after")
    def _forms(self):
        if not self.forms:
            return self
        if len(self.forms) < 2:
            raise ValueError("forms: give at least two alternative forms, or none")
        ids = [f.id for f in self.forms]
        if len(ids) != len(set(ids)):
            raise ValueError("forms: a form id is listed twice")
        total = sum(f.weight for f in self.forms)
        if abs(total - 1.0) > 0.02:
            raise ValueError(f"forms: the weights must sum to 1 (they sum to {total:.3f})")
        for f in self.forms:
            extra = sorted(set(f.regions) - set(self.regions))
            if extra:
                raise ValueError(f"form {f.id}: regions {extra} are not in the pattern's regions (the drawn map must cover every form)")
        return self

    @field_validator("condition")
    @classmethod
    def _cond(cls, v):
        _check_ids([v], vocabulary().conditions, "condition")
        return v


class SharedAdvice(Strict):
    """An entry of the shared self-care library (the same advice for several conditions)."""

    topic: SelfCareTopic
    patient: str = Field(min_length=20)
    clinician: str = Field(min_length=20)
    grade: Grade
    references: list[str] = []


class SharedNote(Strict):
    """A note every relevant card shows (medicine safety, seeing a physiotherapist)."""

    patient: str = Field(min_length=20)
    clinician: str = Field(min_length=20)
    references: list[str] = []


class SelfCareLibrary(Strict):
    """knowledge/self_care.yaml: advice shared by several conditions, the medicine-safety notes
    (who should not take paracetamol or an anti-inflammatory) and the physiotherapy note."""

    medicine_safety: dict[Literal["paracetamol", "nsaids"], SharedNote]
    physiotherapy: SharedNote
    entries: dict[str, SharedAdvice]
    references: list[Reference] = Field(min_length=1)

    @model_validator(mode="after")
    def _refs(self):
        keys = {r.key for r in self.references}
        if len(keys) != len(self.references):
            raise ValueError("duplicate reference keys")
        used = set(self.physiotherapy.references)
        for n in self.medicine_safety.values():
            used |= set(n.references)
        for e in self.entries.values():
            used |= set(e.references)
        missing = sorted(used - keys)
        if missing:
            raise ValueError(f"reference keys used but not listed under references: {missing}")
        return self
