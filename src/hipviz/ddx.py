"""Rank the candidate conditions for a pain map, with reasons, questions to ask next and alerts.

The model is a transparent naive-Bayes style product over the conditions of the knowledge base:

    score(c) ∝ prior(c) × location(c) × Π symptom LRs × Π finding LRs × age LR × sex LR

* **prior**: each condition's ``prior.value`` (normalised over the conditions).
* **location**: each referral pattern gives P(region painted | c) = w (`W_FLOOR` for regions it
  does not list, clipped to [`W_FLOOR`, `W_CEIL`]). Every painted region counts w / B and every
  unpainted region ((1 - w) / (1 - B)) ** `ABSENCE_WEIGHT`, where B is the prior-weighted average
  of the same probability over all conditions (derived, so the factors read as likelihood ratios
  against the average presentation). Painted regions are weighted a little by intensity
  (exponent 0.5 + 0.05 × intensity, so 10/10 counts fully); unpainted regions count only when
  something is painted at all, and at half weight: the regions of one pattern are strongly
  correlated (people paint a band, often only its worst part), and at full weight a sparse
  drawing of the calf and foot lost to lateral hip pain because the root patterns list more
  regions. Applying the absence term to every region, not only to expected ones, keeps it
  monotone (a lower w is never worse when the region is not painted); in practice the regions a
  pattern expects (w ≥ 0.3) carry nearly all of it, and only those are named in the reasons.
  Sides: a ``same_side`` pattern is evaluated with the affected side left and with it right
  (the mirror region is painted with probability `CONTRALATERAL` × w, at least `W_FLOOR`), and the
  two are averaged (½ + ½, the better one is reported as the side); ``both_sides`` and ``midline``
  patterns apply on each side independently; midline regions are side-free. Everything is built
  by swapping left and right slots, so mirroring a map mirrors the result exactly.
* **symptoms** (qualities, aggravators, relievers, red flags): a ticked item counts
  P(item | c) / B(item); items a condition does not list have P = `UNLISTED` for their kind (red
  flags: knowledge/ranking.yaml, per flag; ``age_over_50`` unlisted is read off the age bands). An item
  not ticked counts for nothing (absence of an answer is not a "no"). When the age is given,
  ``age_over_50`` is already in the age likelihood and is not counted twice.
* **findings**: a test found present counts its LR+, a test found absent its LR−, both from the
  condition's finding list (sensitivity/specificity or likelihood ratios); unlisted findings are
  neutral (LR 1): the knowledge base lists the tests that matter for each condition.
* **demographics**: P(age band | c) and the share of women, against their prior-weighted averages.

Red flags are never outvoted: every red flag ticked produces an alert ahead of the list telling
the user to seek medical care now and naming the emergency/soon conditions whose data lists that
flag. Flags characteristic of an emergency condition (LR ≥ `KEY_FLAG_LR` against the average:
saddle anaesthesia, a pulsatile mass, ...) make an "emergency" alert and move that condition to
the top of the list whatever the rest says; the other flags (risk factors such as smoking) make
an "urgent" alert and count only as likelihood ratios.

Reasons (`Candidate.why`) come from one evidence matrix (conditions × items) built per ranking;
the sentences for a candidate are written when its ``why`` is first read.

``ask_next`` ranks unanswered items by the mutual information between the answer and the
posterior over the top `ASK_TOP` candidates (the expected entropy reduction, in bits).

Pure numpy/python; the per-condition arrays are built once per knowledge base and cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Mapping, NamedTuple

import numpy as np
import yaml

from hipviz.painmap import REGION_IDS, SIDE_CODES, SIDE_NAMES, PainMap
from hipviz.vocabulary import vocabulary

__all__ = [
    "DISCLAIMER",
    "Reason",
    "Candidate",
    "Alert",
    "Question",
    "Result",
    "Model",
    "model",
    "rank",
]

DISCLAIMER = (
    "hipviz gives educational information, not a diagnosis. The ranking compares your answers with "
    "textbook patterns; only a clinician who examines you can say what is causing your pain. "
    "If anything worries you, or a red flag applies, seek medical care."
)

# -- model constants (all in one place, all documented) ----------------------------------------
#: P(region painted | condition) for a region its pattern does not list; also the lower clip.
W_FLOOR = 0.03
#: Upper clip for pattern weights, so an unpainted "certain" region never zeroes a condition.
W_CEIL = 0.97
#: same_side conditions: chance of the mirror-image region being painted, relative to the
#: affected side (about a third of women with GTPS have it on both sides [SEGAL07]; 0.2 keeps
#: one-sided painting clearly favoured while bilateral painting costs but does not exclude).
CONTRALATERAL = 0.2
#: Weight of the "not painted" evidence (1 = plain naive Bayes).
ABSENCE_WEIGHT = 0.5
#: P(item | condition) for questionnaire items a condition does not list: "uncommon".
UNLISTED = {"qualities": 0.1, "aggravators": 0.1, "relievers": 0.1}
#: Red flag LR (against the average) from which a flag counts as a feature of an emergency
#: condition and moves that condition to the top.
KEY_FLAG_LR = 20.0
#: Default false-positive rate of a test for conditions that do not list it (ask_next only).
FINDING_FPR_DEFAULT = 0.2
#: ask_next looks at the top candidates only.
ASK_TOP = 5
ASK_COUNT = 5
#: Reasons shown per candidate, and the smallest factor change worth a sentence (x1.5 or x1/1.5).
WHY_COUNT = 6
WHY_MIN_LOG = math.log(1.5)

AGE_BANDS = ("under_30", "30_49", "50_69", "70_plus")
_SYMPTOM_KINDS = ("qualities", "aggravators", "relievers", "red_flags")
_N_SLOTS = 3 * len(REGION_IDS)
_MIRROR = np.array([3 * (k // 3) + (0, 2, 1)[k % 3] for k in range(_N_SLOTS)])


def _age_band(age: int) -> int:
    return 0 if age < 30 else 1 if age < 50 else 2 if age < 70 else 3


def _lc(label: str) -> str:
    """Lower-case the first letter unless the label starts with an acronym (FABER, SIJ, C-sign)."""
    if len(label) > 1 and label[0].isupper() and (label[1].islower() or label[1] == " "):
        return label[0].lower() + label[1:]
    return label


def _short(name: str) -> str:
    """A condition name without its parenthetical gloss: 'Gluteal tendinopathy (sore ...)' -> 'Gluteal tendinopathy'."""
    i = name.find(" (")
    return name[:i] if i > 0 else name


# -- questions for ask_next ---------------------------------------------------------------------


@cache
def ranking_data() -> dict[str, Any]:
    """knowledge/ranking.yaml: question phrasings and base rates of unlisted red flags."""
    return yaml.safe_load(resources.files("hipviz.knowledge").joinpath("ranking.yaml").read_text("utf-8"))


def unlisted_red_flag_rate(flag: str) -> float:
    rates = ranking_data()["unlisted_red_flag_rate"]
    return float(rates.get(flag, rates["default"]))


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
        return f"Red-flag check: {_lc(v.red_flags[item])}?"
    return f"Examination: {v.findings[item]}?"


# -- result types -----------------------------------------------------------------------------


class Reason(NamedTuple):
    """One piece of evidence for or against a candidate, as a sentence and as numbers.

    (A named tuple: a ranking writes about 150 of them, and tuples are quick to build.)
    """

    text: str
    factor: float  # multiplies the candidate's odds against the average presentation
    direction: str  # "for" | "against" | "note"
    kind: str  # location, absence, qualities, aggravators, relievers, red_flags, finding, negative_finding, age, sex, alert
    item: str | None = None
    source: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
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
    score: float  # normalised posterior over all conditions (sums to 1)
    side: str | None  # left, right, either, both, midline, or None when nothing is painted
    urgency: str
    promoted: bool
    log_score: float  # unnormalised log posterior (prior × likelihood ratios)
    _evidence: Any = field(default=None, repr=False, compare=False)
    _index: int = field(default=-1, repr=False, compare=False)

    @property
    def why(self) -> tuple[Reason, ...]:
        """The strongest reasons for and against, as sentences with their factors (strongest first)."""
        return self._evidence.reasons(self._index) if self._evidence is not None else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "name": self.name,
            "clinician_name": self.clinician_name,
            "score": self.score,
            "side": self.side,
            "urgency": self.urgency,
            "promoted": self.promoted,
            "why": [r.text for r in self.why],
            "reasons": [r.to_dict() for r in self.why],
        }


@dataclass(frozen=True)
class Alert:
    level: str  # "emergency" | "urgent"
    red_flags: tuple[str, ...]
    rule_out: tuple[str, ...]  # condition ids to rule out, most specific first
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "red_flags": list(self.red_flags), "rule_out": list(self.rule_out), "message": self.message}


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # qualities, aggravators, relievers, red_flags, findings
    question: str  # the question with the candidates it separates
    separates: tuple[str, str]
    information_gain: float  # bits, over the top candidates

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "id": self.id,
            "kind": self.kind,
            "separates": list(self.separates),
            "information_gain_bits": round(self.information_gain, 4),
        }


@dataclass(frozen=True)
class Result:
    candidates: tuple[Candidate, ...]  # best first (promoted emergencies before the rest)
    alerts: tuple[Alert, ...]
    ask_next: tuple[Question, ...]
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerts": [a.to_dict() for a in self.alerts],
            "candidates": [c.to_dict() for c in self.candidates],
            "ask_next": [q.to_dict() for q in self.ask_next],
            "disclaimer": self.disclaimer,
        }

    def top(self, n: int = 3) -> list[str]:
        return [c.condition for c in self.candidates[:n]]


# -- the precomputed model ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Symptoms:
    ids: tuple[str, ...]
    index: dict[str, int]
    p: np.ndarray  # (C, F) P(item | condition), unlisted filled in
    listed: np.ndarray  # (C, F) bool
    log_lr: np.ndarray  # (C, F) log(p / baseline)


@dataclass(frozen=True, eq=False)
class Model:
    """Per-condition arrays derived once from the knowledge base (see the module docstring)."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    clinician_names: tuple[str, ...]
    urgency: tuple[str, ...]
    same_side: np.ndarray  # (C,) bool
    side_rule: tuple[str, ...]  # same_side, both_sides or midline, per condition
    log_prior: np.ndarray  # (C,)
    p_region: np.ndarray  # (C, 2, S) P(slot painted | c, affected side left/right)
    loc_pos: np.ndarray  # (C, 2, S) log(p / B), 0 on unused slots
    loc_neg: np.ndarray  # (C, 2, S) log((1 - p) / (1 - B)), 0 on unused slots
    symptoms: dict[str, _Symptoms]
    finding_ids: tuple[str, ...]
    finding_index: dict[str, int]
    log_lr_pos: np.ndarray  # (C, F)
    log_lr_neg: np.ndarray  # (C, F)
    finding_p_pos: np.ndarray  # (C, F) P(test positive | c), for ask_next
    finding_source: tuple[tuple[tuple[str, ...], ...], ...]  # [c][f] reference keys, () if estimate/unlisted
    age_log_lr: np.ndarray  # (C, 4)
    female_log_lr: np.ndarray  # (C,)
    male_log_lr: np.ndarray  # (C,)
    key_flags: np.ndarray  # (C, F_red) bool: flag characteristic of an emergency condition
    rule_out: dict[str, tuple[int, ...]]  # red flag -> emergency/soon conditions listing it
    questions: tuple[tuple[str, str], ...]  # (kind, id) for every askable item
    question_p: np.ndarray  # (C, Q) P(yes | c)

    @classmethod
    def from_entries(cls, entries: Mapping[str, Any]) -> Model:
        """Build from {id: Entry(condition, pattern)} (the shape `knowledge()` returns)."""
        v = vocabulary()
        ids = tuple(entries)
        conds = [entries[i].condition for i in ids]
        pats = [entries[i].pattern for i in ids]
        n = len(ids)
        if n == 0:
            raise ValueError("no conditions to rank")
        prior = np.array([c.prior.value for c in conds], dtype=np.float64)
        if not np.all(prior > 0):
            bad = [i for i, c in zip(ids, conds, strict=True) if c.prior.value <= 0]
            raise ValueError(f"conditions with a zero prior cannot be ranked: {bad}")
        prior = prior / prior.sum()

        # location: P(slot painted | c, affected side h) for h = left (0), right (1)
        valid = np.zeros(_N_SLOTS, dtype=bool)
        for r, rid in enumerate(REGION_IDS):
            for s in v.region_sides(rid):
                valid[3 * r + SIDE_CODES[s]] = True
        same_side = np.array([p.side_rule == "same_side" for p in pats], dtype=bool)
        p_region = np.zeros((n, 2, _N_SLOTS))
        for ci, pat in enumerate(pats):
            w = np.full(len(REGION_IDS), W_FLOOR)
            for rid, val in pat.regions.items():
                w[REGION_IDS.index(rid)] = val
            w = np.clip(w, W_FLOOR, W_CEIL)
            for r, rid in enumerate(REGION_IDS):
                if rid not in v.sided_regions:
                    p_region[ci, :, 3 * r] = w[r]
                elif same_side[ci]:
                    contra = max(W_FLOOR, CONTRALATERAL * w[r])
                    p_region[ci, 0, 3 * r + 1], p_region[ci, 0, 3 * r + 2] = w[r], contra
                    p_region[ci, 1, 3 * r + 1], p_region[ci, 1, 3 * r + 2] = contra, w[r]
                else:
                    p_region[ci, :, 3 * r + 1] = w[r]
                    p_region[ci, :, 3 * r + 2] = w[r]
        p_region[:, :, ~valid] = 0.5  # unused slots: neutral, masked below
        base = np.einsum("c,chs->s", prior, p_region) / 2.0
        loc_pos = np.where(valid, np.log(p_region / base), 0.0)
        loc_neg = np.where(valid, np.log((1.0 - p_region) / (1.0 - base)), 0.0)

        # questionnaire items
        bands = np.array([[c.demographics.age_bands[b] for b in AGE_BANDS] for c in conds])
        bands = np.clip(bands, 0.005, None)  # no age band is impossible
        bands = bands / bands.sum(axis=1, keepdims=True)
        over_50 = bands[:, 2] + bands[:, 3]
        symptoms = {}
        for kind in _SYMPTOM_KINDS:
            kids = tuple(getattr(v, kind))
            p = np.empty((n, len(kids)))
            listed = np.zeros((n, len(kids)), dtype=bool)
            for fi, fid in enumerate(kids):
                if kind == "red_flags":
                    default = over_50 if fid == "age_over_50" else np.full(n, unlisted_red_flag_rate(fid))
                else:
                    default = np.full(n, UNLISTED[kind])
                p[:, fi] = default
                for ci, c in enumerate(conds):
                    given = getattr(c, kind)
                    if fid in given:
                        p[ci, fi] = given[fid]
                        listed[ci, fi] = True
            p = np.clip(p, 0.005, 0.995)
            log_lr = np.log(p / (prior @ p))
            symptoms[kind] = _Symptoms(kids, {k: i for i, k in enumerate(kids)}, p, listed, log_lr)

        # findings
        fids = tuple(v.findings)
        f_index = {k: i for i, k in enumerate(fids)}
        lr_pos = np.ones((n, len(fids)))
        lr_neg = np.ones((n, len(fids)))
        fpr = np.full((n, len(fids)), np.nan)
        sources: list[list[tuple[str, ...]]] = [[() for _ in fids] for _ in ids]
        for ci, c in enumerate(conds):
            for f in c.findings:
                fi = f_index[f.id]
                lp, ln = f.likelihood_ratios()
                lr_pos[ci, fi], lr_neg[ci, fi] = lp, ln
                if f.specificity is not None:
                    fpr[ci, fi] = max(1.0 - f.specificity, 0.01)
                if f.basis == "cited" and f.references:
                    sources[ci][fi] = tuple(f.references)
        lr_pos = np.clip(lr_pos, 0.01, 100.0)
        lr_neg = np.clip(lr_neg, 0.01, 100.0)
        # P(positive | c) consistent with the two LRs: rho·LR+ / (rho·LR+ + (1-rho)·LR-), rho the
        # false-positive rate (1 - specificity where known); unlisted: LR 1, so P = rho.
        known = ~np.isnan(fpr)
        col_fpr = np.where(known.any(axis=0), np.where(known, fpr, 0.0).sum(axis=0) / np.maximum(known.sum(axis=0), 1), FINDING_FPR_DEFAULT)
        rho = np.where(np.isnan(fpr), col_fpr[None, :], fpr)
        p_pos = rho * lr_pos / (rho * lr_pos + (1 - rho) * lr_neg)

        # demographics
        age_log_lr = np.log(bands / (prior @ bands))
        female = np.clip(np.array([c.demographics.female_fraction for c in conds]), 0.01, 0.99)
        female_log_lr = np.log(female / (prior @ female))
        male_log_lr = np.log((1 - female) / (prior @ (1 - female)))

        urgency = tuple(c.urgency for c in conds)
        red = symptoms["red_flags"]
        emergency = np.array([u == "emergency" for u in urgency])
        key_flags = red.listed & emergency[:, None] & (red.log_lr >= math.log(KEY_FLAG_LR))
        rule_out = {}
        urgent = np.array([u in ("emergency", "soon") for u in urgency])
        for fi, fid in enumerate(red.ids):
            rows = np.flatnonzero(red.listed[:, fi] & urgent)
            # most specific first: emergencies, then by LR
            order = sorted(rows.tolist(), key=lambda ci: (urgency[ci] != "emergency", -red.log_lr[ci, fi]))
            rule_out[fid] = tuple(order)

        questions: list[tuple[str, str]] = []
        cols = []
        for kind in _SYMPTOM_KINDS:
            s = symptoms[kind]
            for fi, fid in enumerate(s.ids):
                if kind == "relievers" and fid == "nothing":
                    continue
                questions.append((kind, fid))
                cols.append(s.p[:, fi])
        for fi, fid in enumerate(fids):
            questions.append(("findings", fid))
            cols.append(p_pos[:, fi])
        question_p = np.clip(np.stack(cols, axis=1), 1e-4, 1 - 1e-4)

        return cls(
            ids=ids,
            names=tuple(c.names.patient for c in conds),
            clinician_names=tuple(c.names.clinician for c in conds),
            urgency=urgency,
            same_side=same_side,
            side_rule=tuple(p.side_rule for p in pats),
            log_prior=np.log(prior),
            p_region=p_region,
            loc_pos=loc_pos,
            loc_neg=loc_neg,
            symptoms=symptoms,
            finding_ids=fids,
            finding_index=f_index,
            log_lr_pos=np.log(lr_pos),
            log_lr_neg=np.log(lr_neg),
            finding_p_pos=p_pos,
            finding_source=tuple(tuple(r) for r in sources),
            age_log_lr=age_log_lr,
            female_log_lr=female_log_lr,
            male_log_lr=male_log_lr,
            key_flags=key_flags,
            rule_out=rule_out,
            questions=tuple(questions),
            question_p=question_p,
        )

    # -- scoring --------------------------------------------------------------------------

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

    def location_loglik(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        """(C, 2) location log-likelihood ratio with the affected side left / right.

        Both hypotheses use the left-hypothesis arrays, the right one on the mirrored map, so a
        mirrored map gives bitwise the same numbers with the columns swapped. Patterns that are
        not same_side are symmetric: they get the mean of the two (equal up to rounding).
        """
        n = len(self.ids)
        if not x.any():
            return np.zeros((n, 2))
        pos, neg = self._loc_pos_left, self._loc_neg_left
        u = 1.0 - x
        ll0 = pos @ a + ABSENCE_WEIGHT * (neg @ u)
        ll1 = pos @ a[_MIRROR] + ABSENCE_WEIGHT * (neg @ u[_MIRROR])
        sym = (ll0 + ll1) * 0.5
        return np.stack([np.where(self.same_side, ll0, sym), np.where(self.same_side, ll1, sym)], axis=1)

    @property
    def _question_index(self) -> dict[tuple[str, str], int]:
        return self._cache("question_index", lambda: {qk: j for j, qk in enumerate(self.questions)})

    @property
    def _loc_pos_left(self) -> np.ndarray:
        return self._cache("loc_pos_left", lambda: np.ascontiguousarray(self.loc_pos[:, 0, :]))

    @property
    def _loc_neg_left(self) -> np.ndarray:
        return self._cache("loc_neg_left", lambda: np.ascontiguousarray(self.loc_neg[:, 0, :]))

    def _cache(self, name: str, make):
        store = self.__dict__.setdefault("_derived", {})
        if name not in store:
            store[name] = make()
        return store[name]

    def scores(self, pm: PainMap) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Unnormalised log scores (C,), the side hypothesis chosen per condition (C,), and the parts."""
        x, a = self.encode_location(pm)
        ll = self.location_loglik(x, a)
        best_h = np.where(ll[:, 1] > ll[:, 0] + 1e-9, 1, 0)
        loc = np.where(self.same_side, np.logaddexp(ll[:, 0], ll[:, 1]) - math.log(2.0), ll[:, 0])
        total = self.log_prior + loc
        used: dict[str, list[int]] = {}
        for kind in _SYMPTOM_KINDS:
            s = self.symptoms[kind]
            idx = [s.index[i] for i in getattr(pm, kind)]
            if kind == "red_flags" and pm.age is not None and "age_over_50" in s.index:
                idx = [i for i in idx if s.ids[i] != "age_over_50"]  # already in the age likelihood
            used[kind] = idx
            if idx:
                total = total + s.log_lr[:, idx].sum(axis=1)
        pos = [self.finding_index[f] for f in pm.findings]
        neg = [self.finding_index[f] for f in pm.negative_findings]
        if pos:
            total = total + self.log_lr_pos[:, pos].sum(axis=1)
        if neg:
            total = total + self.log_lr_neg[:, neg].sum(axis=1)
        if pm.age is not None:
            total = total + self.age_log_lr[:, _age_band(pm.age)]
        if pm.sex == "female":
            total = total + self.female_log_lr
        elif pm.sex == "male":
            total = total + self.male_log_lr
        parts = {"x": x, "a": a, "ll": ll, "symptoms": used, "pos": pos, "neg": neg}
        return total, best_h, parts


_REGION_INDEX = {r: i for i, r in enumerate(REGION_IDS)}
_SLOT_META = {kind: [(kind, REGION_IDS[k // 3], SIDE_NAMES[k % 3]) for k in range(_N_SLOTS)] for kind in ("location", "absence")}


@cache
def model() -> Model:
    """The model of the shipped knowledge base (built once)."""
    from hipviz.knowledge.loader import knowledge

    return Model.from_entries(knowledge())


# -- ranking ----------------------------------------------------------------------------------


def rank(painmap: PainMap, model_: Model | None = None) -> Result:
    """Rank all conditions for a pain map: candidates best first, alerts, questions, disclaimer."""
    m = model_ if model_ is not None else model()
    total, best_h, parts = m.scores(painmap)
    post = np.exp(total - total.max())
    post /= post.sum()

    present_flags = [f for f in painmap.red_flags]
    red = m.symptoms["red_flags"]
    flag_idx = [red.index[f] for f in present_flags]
    promoted = np.zeros(len(m.ids), dtype=bool)
    if flag_idx:
        promoted = m.key_flags[:, flag_idx].any(axis=1)
    # best first; promoted emergencies ahead; ties broken by vocabulary order (stable)
    order = sorted(range(len(m.ids)), key=lambda i: (not promoted[i], -total[i], i))

    sides = _sides(m, painmap, parts["x"], parts["ll"], best_h)
    why = _explain(m, painmap, parts, sides, promoted, flag_idx)
    candidates = tuple(
        Candidate(
            condition=m.ids[i],
            name=m.names[i],
            clinician_name=m.clinician_names[i],
            score=float(post[i]),
            side=sides[i],
            urgency=m.urgency[i],
            promoted=bool(promoted[i]),
            log_score=float(total[i]),
            _evidence=why,
            _index=i,
        )
        for i in order
    )
    alerts = _alerts(m, present_flags)
    ask = _ask_next(m, painmap, post)
    return Result(candidates=candidates, alerts=alerts, ask_next=ask)


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
                out.append("either" if spread == "both" else spread)
            else:
                out.append("right" if best_h[i] == 1 else "left")
        elif m.side_rule[i] == "midline":  # a central pattern is reported as such, whatever was painted
            out.append("midline")
        else:
            out.append(spread)
    return out


def _verdict(log_f: float, present: bool = True) -> tuple[str, str]:
    f = math.exp(log_f)
    if f >= 3:
        return ("typical" if present else "supports"), "for"
    if f >= 1.5:
        return "fits", "for"
    if f <= 1 / 3:
        return ("unusual" if present else "against"), "against"
    return "less typical", "against"


def _fmt(f: float) -> str:
    return f"x{f:.1f}" if f >= 0.095 else f"x{f:.2f}"


def _explain(m: Model, pm: PainMap, parts: dict[str, Any], sides: list[str | None], promoted: np.ndarray, flag_idx: list[int]) -> _Evidence:
    """The reasons for every condition (in model order), strongest first.

    All evidence factors are gathered as columns of one (conditions × items) matrix and ordered at
    once; sentences are written only for the `WHY_COUNT` strongest items of a condition, when its
    `Candidate.why` is first read. For location evidence the
    same region on both sides with the same factor (a both_sides pattern, or a symmetric map)
    becomes one sentence, so that mirroring the map mirrors the reasons exactly.
    """
    v = vocabulary()
    n = len(m.ids)
    rows = np.arange(n)
    h = np.array([1 if (m.same_side[i] and sides[i] == "right") else 0 for i in range(n)])
    cols: list[np.ndarray] = []  # (C, j) log factors
    valid: list[np.ndarray] = []  # (C, j) bool
    meta: list[tuple] = []  # per column: (kind, item, extra)
    x, a = parts["x"], parts["a"]

    def location_block(kind: str, slots: np.ndarray, values: np.ndarray, ok: np.ndarray) -> None:
        # values/ok: (C, len(slots)); a left slot k and its right slot k + 1 with equal factors
        # for a condition become one "both sides" column for that condition
        present = np.zeros(_N_SLOTS + 1, dtype=bool)
        present[slots] = True
        jl = np.flatnonzero((slots % 3 == 1) & present[slots + 1])
        jr = np.searchsorted(slots, slots[jl] + 1)
        eq = ok[:, jl] & ok[:, jr] & (np.abs(values[:, jl] - values[:, jr]) < 1e-12)
        keep = eq.any(axis=0)
        ok[:, jl] &= ~eq
        ok[:, jr] &= ~eq
        cols.append(values)
        valid.append(ok)
        table = _SLOT_META[kind]
        meta.extend(table[k] for k in slots.tolist())
        if keep.any():
            cols.append(values[:, jl[keep]])
            valid.append(eq[:, keep])
            meta.extend((kind, REGION_IDS[k // 3], "both") for k in slots[jl[keep]].tolist())

    if x.any():
        painted = np.flatnonzero(x)
        location_block("location", painted, m.loc_pos[rows, h][:, painted] * a[painted], np.ones((n, painted.size), dtype=bool))
        neg_h = m.loc_neg[rows, h]
        unpainted = np.flatnonzero((x == 0) & (neg_h != 0).any(axis=0))
        location_block("absence", unpainted, ABSENCE_WEIGHT * neg_h[:, unpainted], m.p_region[rows, h][:, unpainted] >= 0.3)
    for kind, idx in parts["symptoms"].items():
        if idx:
            sym = m.symptoms[kind]
            cols.append(sym.log_lr[:, idx])
            valid.append(np.ones((n, len(idx)), dtype=bool))
            meta.extend((kind, sym.ids[i], None) for i in idx)
    for kind, idx, table in (("finding", parts["pos"], m.log_lr_pos), ("negative_finding", parts["neg"], m.log_lr_neg)):
        if idx:
            cols.append(table[:, idx])
            valid.append(np.ones((n, len(idx)), dtype=bool))
            meta.extend((kind, m.finding_ids[i], i) for i in idx)
    if pm.age is not None:
        cols.append(m.age_log_lr[:, [_age_band(pm.age)]])
        valid.append(np.ones((n, 1), dtype=bool))
        meta.append(("age", str(pm.age), None))
    if pm.sex in ("female", "male"):
        cols.append((m.female_log_lr if pm.sex == "female" else m.male_log_lr)[:, None])
        valid.append(np.ones((n, 1), dtype=bool))
        meta.append(("sex", pm.sex, None))

    values = np.concatenate(cols, axis=1) if cols else np.zeros((n, 0))
    strength = np.where(np.concatenate(valid, axis=1) & (np.abs(values) >= WHY_MIN_LOG), np.abs(values), -1.0) if cols else values
    order = np.argsort(-strength, axis=1, kind="stable")[:, :WHY_COUNT]
    empty = not (pm.has_pain or pm.qualities or pm.aggravators or pm.relievers or pm.red_flags or pm.findings
                 or pm.negative_findings or pm.age is not None or pm.sex is not None)
    return _Evidence(m, h, meta, values, strength, order, promoted, tuple(flag_idx), empty)


class _Evidence:
    """The evidence matrix of one ranking; sentences are written per candidate on first request."""

    __slots__ = ("m", "h", "meta", "values", "strength", "order", "promoted", "flag_idx", "empty", "_done")

    def __init__(self, m, h, meta, values, strength, order, promoted, flag_idx, empty):
        self.m, self.h, self.meta, self.values, self.strength, self.order = m, h, meta, values, strength, order
        self.promoted, self.flag_idx, self.empty = promoted, flag_idx, empty
        self._done: dict[int, tuple[Reason, ...]] = {}

    def reasons(self, i: int) -> tuple[Reason, ...]:
        got = self._done.get(i)
        if got is not None:
            return got
        m, v = self.m, vocabulary()
        out = []
        for j in self.order[i].tolist():
            if self.strength[i, j] < 0:
                break
            out.append(_reason(m, i, int(self.h[i]), self.meta[j], float(self.values[i, j]), v))
        if self.promoted[i]:
            red = m.symptoms["red_flags"]
            flags = [v.red_flags[red.ids[fi]] for fi in self.flag_idx if m.key_flags[i, fi]]
            out.insert(0, Reason(f"moved to the top: red flag present ({'; '.join(flags)})", 1.0, "note", "alert"))
        if self.empty:
            out.append(Reason("no pain painted and no answers yet: ranked by how common it is", 1.0, "note", "prior"))
        self._done[i] = got = tuple(out)
        return got


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


def _reason(m: Model, ci: int, h: int, meta: tuple, log_f: float, v) -> Reason:
    """One sentence for one evidence item of condition `ci` (h: the affected-side hypothesis)."""
    kind, item, extra = meta
    f = math.exp(log_f)
    labels = _labels()
    if kind in ("location", "absence"):
        label = labels[kind][item]
        where = f"{label}, both sides" if extra == "both" else label if extra == "midline" else f"{label}, {extra}"
        each = " each" if extra == "both" else ""
        if kind == "location":
            word, direction = _verdict(log_f)
            other = bool(m.same_side[ci]) and extra in ("left", "right") and extra != ("right" if h == 1 else "left")
            return Reason(f"{where}{' (other side)' if other else ''}: {word} ({_fmt(f)}{each})", f, direction, kind, item)
        return Reason(f"no pain at {where}: {'against' if f < 1 else 'fits'} {_short(m.names[ci])} ({_fmt(f)}{each})",
                      f, "against" if f < 1 else "for", kind, item)
    if kind in _SYMPTOM_KINDS:
        word, direction = _verdict(log_f)
        return Reason(f"{labels[kind][item]}: {word} ({_fmt(f)})", f, direction, kind, item)
    if kind in ("finding", "negative_finding"):
        src = m.finding_source[ci][extra]
        cite = f", {', '.join(src)}" if src else ""
        if kind == "finding":
            text = f"{labels['findings'][item]} (found): {'supports' if f > 1 else 'against'} (LR+ {f:.1f}{cite})"
        else:
            text = f"{labels['findings'][item]}: tested, not found: {'against' if f < 1 else 'supports'} (LR- {f:.2f}{cite})"
        return Reason(text, f, "for" if f > 1 else "against", kind, item, src)
    if kind == "age":
        return Reason(f"age {item}: {'a typical age' if f > 1 else 'an unusual age'} ({_fmt(f)})", f, "for" if f > 1 else "against", kind, item)
    who = "women" if item == "female" else "men"
    return Reason(f"{item}: {'more' if f > 1 else 'less'} common in {who} ({_fmt(f)})", f, "for" if f > 1 else "against", kind, item)


def _alerts(m: Model, flags: list[str]) -> tuple[Alert, ...]:
    """At most two alerts: "emergency" for the flags characteristic of an emergency condition (the
    ones that move it to the top), "urgent" for the other flags; each names the emergency/soon
    conditions to rule out (those whose data lists the flags) and says to seek medical care now."""
    if not flags:
        return ()
    v = vocabulary()
    red = m.symptoms["red_flags"]
    key = [f for f in flags if m.key_flags[:, red.index[f]].any()]
    groups = (("emergency", key), ("urgent", [f for f in flags if f not in key]))
    out = []
    for level, group in groups:
        if not group:
            continue
        rows: list[int] = []
        if level == "emergency":  # the emergencies these flags are characteristic of come first
            rows += [i for i in range(len(m.ids)) if m.key_flags[i, [red.index[f] for f in group]].any()]
        for f in group:
            rows += [i for i in m.rule_out.get(f, ()) if i not in rows]
        labels = [v.red_flags[f] for f in group]
        names = [_short(m.names[i]) for i in rows]
        one = len(group) == 1
        head = f"Red flag: {labels[0]}." if one else f"Red flags: {'; '.join(labels)}."
        if names:
            what = f"{'It' if one else 'These'} can be {'a sign' if one else 'signs'} of {_join(names)}, which must be ruled out."
        else:
            what = f"{'It' if one else 'These'} can be {'a sign' if one else 'signs'} of a serious cause that must be ruled out."
        if level == "emergency":
            action = "Please seek medical care now (emergency department or urgent care), before anything else."
        else:
            action = "Please seek medical care now: see a doctor promptly rather than waiting for this to settle."
        out.append(Alert(level=level, red_flags=tuple(group), rule_out=tuple(m.ids[i] for i in rows), message=f"{head} {what} {action}"))
    return tuple(out)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Entropy in bits along `axis` (0 log 0 = 0)."""
    return -(p * np.log2(np.maximum(p, 1e-300))).sum(axis=axis)


def _ask_next(m: Model, pm: PainMap, post: np.ndarray) -> tuple[Question, ...]:
    top = np.argsort(-post, kind="stable")[:ASK_TOP]
    if len(top) < 2:
        return ()
    q = post[top] / post[top].sum()
    index = m._question_index
    open_ = np.ones(len(m.questions), dtype=bool)
    for kind in _SYMPTOM_KINDS:
        for i in getattr(pm, kind):
            j = index.get((kind, i))
            if j is not None:
                open_[j] = False
    for f in (*pm.findings, *pm.negative_findings):
        open_[index[("findings", f)]] = False
    if pm.age is not None and ("red_flags", "age_over_50") in index:
        open_[index[("red_flags", "age_over_50")]] = False
    cols = np.flatnonzero(open_)
    if cols.size == 0:
        return ()
    p = m.question_p[top][:, cols]  # (K, Q)
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
        text = f"{_question(kind, item)} (separates {_short(m.names[a])} from {_short(m.names[b])})"
        out.append(Question(item, kind, text, (m.ids[a], m.ids[b]), float(gain[j])))
    return tuple(out)
