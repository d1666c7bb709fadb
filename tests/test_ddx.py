"""The ranking: model arithmetic on synthetic conditions, properties on the real knowledge base,
and the example patient maps."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hipviz import ddx
from hipviz.knowledge.loader import Entry
from hipviz.knowledge.schema import Condition, ReferralPattern
from hipviz.painmap import REGION_IDS, PainMap
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary

V = vocabulary()

# -- synthetic knowledge ------------------------------------------------------------------------------

TEXT = "Synthetic text for an engine test, long enough for the schema."


def condition(cid, prior, urgency="routine", findings=(), age_bands=(0.25, 0.25, 0.25, 0.25), female=0.5, **symptoms):
    return Condition.model_validate({
        "id": cid,
        "names": {"patient": f"Patient {cid} (gloss)", "clinician": f"Clinician {cid}"},
        "category": "joint",
        "urgency": urgency,
        "source_structures": ["femur"],
        "referral_path": {"mechanism": "joint", "segments": ["L3"], "steps": ["femur"], "explanation": {"patient": TEXT, "clinician": TEXT}},
        **symptoms,
        "demographics": {"age_bands": dict(zip(ddx.AGE_BANDS, age_bands, strict=True)), "female_fraction": female, "basis": "estimate"},
        "prior": {"value": prior, "basis": "estimate"},
        "findings": [dict(f) for f in findings],
        "summary": {"patient": TEXT, "clinician": TEXT},
        "pathophysiology": {"patient": TEXT, "clinician": TEXT},
        "treatments": [{"intervention": "exercise", "findings": TEXT, "grade": "moderate"}],
        "refer_when": [{"when": "never in tests", "level": "routine"}],
        "references": [{"key": "SYN01", "citation": "Synthetic reference for the engine tests", "unverified": "synthetic"}],
    })


def pattern(cid, regions, side_rule="same_side", forms=()):
    return ReferralPattern.model_validate({
        "format": "hipviz-referral-pattern", "version": 1, "condition": cid, "side_rule": side_rule,
        "basis": "expert_opinion", "regions": regions, "forms": [dict(f) for f in forms],
    })


def synthetic_entries():
    e = {}
    e["gtps_gluteal_tendinopathy"] = Entry(
        condition("gtps_gluteal_tendinopathy", 0.3, aggravators={"lying_on_side": 0.8, "stairs": 0.5}, qualities={"aching": 0.6},
                  findings=[{"id": "single_leg_stance_pain", "sensitivity": 0.6, "specificity": 0.9, "basis": "cited", "references": ["SYN01"]},
                            {"id": "trochanter_tenderness", "sensitivity": 0.9, "specificity": 0.5, "basis": "estimate"}],
                  age_bands=(0.05, 0.35, 0.45, 0.15), female=0.8),
        pattern("gtps_gluteal_tendinopathy", {"lateral_hip_trochanter": 0.9, "lateral_thigh": 0.4}),
    )
    e["radiculopathy_L5"] = Entry(
        condition("radiculopathy_L5", 0.2, qualities={"shooting": 0.7, "aching": 0.6}, aggravators={"coughing_sneezing": 0.4},
                  findings=[{"id": "slr_positive", "sensitivity": 0.7, "specificity": 0.6, "basis": "estimate"},
                            {"id": "big_toe_extension_weakness", "lr_positive": 5.0, "lr_negative": 0.5, "basis": "cited", "references": ["SYN01"]}]),
        pattern("radiculopathy_L5", {"lateral_calf": 0.8, "dorsum_foot": 0.6, "buttock_upper": 0.5, "lateral_thigh": 0.4}),
    )
    e["hip_osteoarthritis"] = Entry(
        condition("hip_osteoarthritis", 0.3, aggravators={"morning_stiffness": 0.6, "stairs": 0.5}, qualities={"aching": 0.6},
                  findings=[{"id": "hip_internal_rotation_limited", "sensitivity": 0.86, "specificity": 0.75, "basis": "cited", "references": ["SYN01"]}],
                  age_bands=(0.01, 0.09, 0.45, 0.45)),
        pattern("hip_osteoarthritis", {"groin": 0.8, "anterior_thigh": 0.4, "lateral_hip_trochanter": 0.3}),
    )
    e["cauda_equina_syndrome"] = Entry(
        condition("cauda_equina_syndrome", 0.005, urgency="emergency", red_flags={"saddle_anaesthesia": 0.6, "bladder_or_bowel_dysfunction": 0.5, "smoker": 0.2}),
        pattern("cauda_equina_syndrome", {"perineum": 0.6, "low_back_central": 0.8, "posterior_thigh": 0.5}, "both_sides"),
    )
    e["femoral_neck_stress_fracture"] = Entry(
        condition("femoral_neck_stress_fracture", 0.02, urgency="soon", red_flags={"unable_to_hop": 0.7, "saddle_anaesthesia": 0.01}),
        pattern("femoral_neck_stress_fracture", {"groin": 0.8, "anterior_thigh": 0.5}),
    )
    e["abdominal_aortic_aneurysm"] = Entry(
        condition("abdominal_aortic_aneurysm", 0.005, urgency="emergency", red_flags={"pulsatile_abdominal_mass": 0.5}),
        pattern("abdominal_aortic_aneurysm", {"low_back_central": 0.6, "lower_abdomen": 0.6, "flank": 0.4}, "midline"),
    )
    return e


@pytest.fixture(scope="module")
def syn():
    return ddx.Model.from_entries(synthetic_entries())


def pm(regions=(), **kw):
    d = {"format": "hipviz-painmap", "version": 1,
         "regions": [{"region": r, "side": s, "intensity": i} for r, s, i in regions]}
    d.update(kw)
    return PainMap.from_dict(d)


def by_id(result):
    return {c.condition: c for c in result.candidates}


PRM = ddx.params()
ALPHA = PRM.evidence_power  # weight of every piece of evidence but the strongest for and against
LEAD = PRM.lead_weight  # weight of the strongest piece for and the strongest against


# -- model arithmetic -----------------------------------------------------------------------------------


def test_prior_only_when_nothing_is_given(syn):
    r = ddx.rank(pm(), syn)
    priors = np.array([0.3, 0.2, 0.3, 0.005, 0.02, 0.005])
    priors = priors / priors.sum() * (1 - PRM.something_else_prior)
    got = by_id(r)
    for cid, p in zip(syn.ids, priors, strict=True):
        assert got[cid].probability == pytest.approx(p)
        assert got[cid].side is None
    # with no evidence the conditions and "something else" share 100% exactly
    assert sum(c.probability for c in r.candidates) + r.something_else == pytest.approx(1.0)
    assert r.something_else == pytest.approx(PRM.something_else_prior)
    assert r.alerts == ()
    assert r.disclaimer.startswith("hipviz gives educational information, not a diagnosis")
    assert r.candidates[0].why[-1].text.startswith("no pain painted and no answers yet")


def test_each_condition_is_weighed_against_not_this_condition(syn):
    """P(item | c) against the prior-weighted mixture of the other conditions and of "something
    else" (which answers like the average presentation)."""
    j = syn.item_index[("aggravators", "lying_on_side")]
    p = syn.p_item[:, j]
    pi = syn.prior
    mean = (pi @ p) / pi.sum()
    total = pi @ p + PRM.something_else_prior * mean
    for c in range(len(syn.ids)):
        b = (total - pi[c] * p[c]) / (1 - pi[c])
        assert syn.vs_rest.yes[c, j] == pytest.approx(math.log(p[c] / b))
        assert syn.vs_rest.no[c, j] == pytest.approx(math.log((1 - p[c]) / (1 - b)))
    # unlisted items take the documented rates; age_over_50 comes from the age bands
    red = lambda f: syn.item_index[("red_flags", f)]
    assert syn.p_item[syn.ids.index("gtps_gluteal_tendinopathy"), red("presyncope")] == ddx.unlisted_red_flag_rate("presyncope")
    assert syn.p_item[syn.ids.index("hip_osteoarthritis"), red("age_over_50")] == pytest.approx(0.9)
    q = syn.item_index[("qualities", "cramping")]  # in no answer group
    assert np.all(syn.p_item[:, q] == PRM.unlisted_item_rate)
    f = syn.item_index[("findings", "fulcrum_test_positive")]
    assert np.all(syn.p_item[:, f] == ddx.unlisted_finding_rate("fulcrum_test_positive"))


def test_an_unlisted_symptom_of_a_listed_group_is_not_uncommon(syn):
    """A condition that lists one answer of a group (they say much the same thing) takes
    group_item_share of that answer's rate for the others its file does not name; a condition
    that lists none of the group keeps the general "uncommon" rate."""
    assert PRM.group_item_share > 0
    groups = ddx.ranking_data()["answer_groups"]["neuropathic_quality"]
    cols = [syn.item_index[tuple(k.split("."))] for k in groups]
    burning = syn.item_index[("qualities", "burning")]
    for c in range(len(syn.ids)):
        listed = [syn.p_item[c, j] for j in cols if syn.listed[c, j]]
        if syn.listed[c, burning]:
            continue
        want = max(PRM.unlisted_item_rate, PRM.group_item_share * max(listed)) if listed else PRM.unlisted_item_rate
        assert syn.p_item[c, burning] == pytest.approx(want), syn.ids[c]
    l5 = syn.ids.index("radiculopathy_L5")  # lists shooting 0.7, not burning
    assert syn.p_item[l5, burning] == pytest.approx(max(PRM.unlisted_item_rate, PRM.group_item_share * 0.7))
    # red flags keep their population rates
    flu = syn.item_index[("red_flags", "recent_infection")]
    unlisted = ~syn.listed[:, flu]
    assert unlisted.any() and np.all(syn.p_item[unlisted, flu] == ddx.unlisted_red_flag_rate("recent_infection"))


def test_an_item_every_condition_shares_changes_nothing():
    e = synthetic_entries()
    for cid, entry in list(e.items()):
        c = entry.condition.model_copy(update={"qualities": {**entry.condition.qualities, "throbbing": 0.4}})
        e[cid] = Entry(c, entry.pattern)
    m = ddx.Model.from_entries(e)
    a = ddx.rank(pm([("groin", "left", 5)]), m)
    b = ddx.rank(pm([("groin", "left", 5)], qualities=["throbbing"]), m)
    assert [c.probability for c in a.candidates] == pytest.approx([c.probability for c in b.candidates])


def test_location_ranks_the_matching_pattern_and_reports_the_side(syn):
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 7), ("lateral_thigh", "right", 3)]), syn)
    top = r.candidates[0]
    assert top.condition == "gtps_gluteal_tendinopathy" and top.side == "right"
    assert any(re.fullmatch(r"Side of the hip \(bony point\), right: (typical|fits) \(x\d+\.\d\)", w.text) for w in top.why)
    r = ddx.rank(pm([("groin", "left", 6)]), syn)
    assert r.candidates[0].condition == "hip_osteoarthritis" and r.candidates[0].side == "left"


def test_unpainted_expected_region_counts_against(syn):
    r = ddx.rank(pm([("anterior_thigh", "left", 5)]), syn)
    oa = by_id(r)["hip_osteoarthritis"]
    text = [w.text for w in oa.why if w.kind == "absence"]
    assert any(t.startswith("No pain at groin, left: less typical (x0.") for t in text), text


def test_same_side_patterns_weigh_the_affected_side_most(syn):
    one = syn.location_loglik(*syn.encode_location(pm([("lateral_hip_trochanter", "right", 7)])))
    both = syn.location_loglik(*syn.encode_location(pm([("lateral_hip_trochanter", "right", 7), ("lateral_hip_trochanter", "left", 7)])))
    i = syn.ids.index("gtps_gluteal_tendinopathy")
    assert one[i, 1] > one[i, 0]  # the painted side is the affected side
    assert both[i, 0] == both[i, 1]
    assert both[i].max() - one[i].max() < one[i].max()  # the other side adds less than the affected one
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 7), ("lateral_hip_trochanter", "left", 7)]), syn)
    assert by_id(r)["gtps_gluteal_tendinopathy"].side == "either"  # symmetric map: no side preferred


def test_both_sides_and_midline_rules(syn):
    r = ddx.rank(pm([("posterior_thigh", "right", 5), ("posterior_thigh", "left", 5), ("low_back_central", "midline", 6)]), syn)
    assert by_id(r)["cauda_equina_syndrome"].side == "both"
    r = ddx.rank(pm([("low_back_central", "midline", 6)]), syn)
    assert by_id(r)["abdominal_aortic_aneurysm"].side == "midline"
    # a one-sided problem is never "midline": the map does not say which side it is on
    assert by_id(r)["gtps_gluteal_tendinopathy"].side == "either"
    # a both_sides pattern does not care which side is painted
    a = ddx.rank(pm([("posterior_thigh", "right", 5)]), syn)
    b = ddx.rank(pm([("posterior_thigh", "left", 5)]), syn)
    assert by_id(a)["cauda_equina_syndrome"].log_odds == by_id(b)["cauda_equina_syndrome"].log_odds


def test_intensity_weights_painted_regions_a_little(syn):
    lo = ddx.rank(pm([("lateral_hip_trochanter", "right", 1)]), syn)
    hi = ddx.rank(pm([("lateral_hip_trochanter", "right", 10)]), syn)
    assert by_id(hi)["gtps_gluteal_tendinopathy"].probability > by_id(lo)["gtps_gluteal_tendinopathy"].probability


def test_intensity_zero_counts_as_not_painted(syn):
    a = ddx.rank(pm([("groin", "left", 0)]), syn)
    b = ddx.rank(pm(), syn)
    assert [c.probability for c in a.candidates] == [c.probability for c in b.candidates]


def test_findings_count_through_their_probability_with_their_provenance(syn):
    base = ddx.rank(pm([("lateral_calf", "left", 5)]), syn)
    pos = ddx.rank(pm([("lateral_calf", "left", 5)], findings=["big_toe_extension_weakness"]), syn)
    neg = ddx.rank(pm([("lateral_calf", "left", 5)], negative_findings=["big_toe_extension_weakness"]), syn)
    b, p, n = (by_id(r)["radiculopathy_L5"] for r in (base, pos, neg))
    ci, j = syn.ids.index("radiculopathy_L5"), syn.item_index[("findings", "big_toe_extension_weakness")]
    assert syn.p_item[ci, j] == pytest.approx(5.0 * 0.5 / 4.5)  # the sensitivity LR+ 5 and LR- 0.5 imply
    yes, no = syn.vs_rest.yes[ci, j], syn.vs_rest.no[ci, j]
    # tempered: between the weight of a further piece and that of the strongest piece
    assert ALPHA * yes - 1e-9 <= p.log_odds - b.log_odds <= LEAD * yes + 1e-9
    assert LEAD * no - 1e-9 <= n.log_odds - b.log_odds <= ALPHA * no + 1e-9
    # on its own (nothing else answered) a finding is the strongest piece: it counts at LEAD
    alone = by_id(ddx.rank(pm(findings=["big_toe_extension_weakness"]), syn))["radiculopathy_L5"]
    prior = by_id(ddx.rank(pm(), syn))["radiculopathy_L5"]
    assert alone.log_odds - prior.log_odds == pytest.approx(LEAD * yes)
    assert p.probability > b.probability > n.probability
    assert any(w.text.startswith("Big toe extension (EHL) weakness (found): supports (x") and w.text.endswith("; accuracy published [SYN01])")
               for w in p.why)
    assert any(w.text.startswith("Big toe extension (EHL) weakness: tested, not found: against (x") and "accuracy published [SYN01]" in w.text
               for w in n.why)
    # an estimate says so
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 5)], findings=["trochanter_tenderness"]), syn)
    assert any(w.text.endswith("; accuracy: estimate)") for w in by_id(r)["gtps_gluteal_tendinopathy"].why)
    # a test no condition lists is neutral
    f = ddx.rank(pm([("lateral_calf", "left", 5)], findings=["fulcrum_test_positive"]), syn)
    assert [c.log_odds for c in f.candidates] == pytest.approx([c.log_odds for c in base.candidates])


def test_test_accuracy_becomes_the_probability_of_a_positive_test():
    from hipviz.knowledge.schema import Finding

    f = Finding(id="slr_positive", sensitivity=0.6, specificity=0.9, basis="estimate")
    assert ddx._p_positive(f, 0.15) == 0.6  # the specificity (often from controls) plays no part
    f = Finding(id="slr_positive", lr_positive=7.5, lr_negative=0.62, basis="estimate")
    assert ddx._p_positive(f, 0.15) == pytest.approx(7.5 * 0.38 / 6.88)
    f = Finding(id="achilles_reflex_reduced", lr_positive=7.1, basis="estimate")
    assert ddx._p_positive(f, 0.1) == pytest.approx(0.71)
    assert ddx._p_positive(Finding(id="achilles_reflex_reduced", lr_positive=30, basis="estimate"), 0.1) == 0.9


def test_questionnaire_absence_counts_for_nothing(syn):
    """Not ticking an aggravator is not a "no": only ticked items change the probabilities."""
    a = ddx.rank(pm([("groin", "left", 5)]), syn)
    b = ddx.rank(pm([("groin", "left", 5)], aggravators=["stairs"]), syn)
    assert by_id(b)["hip_osteoarthritis"].probability > by_id(a)["hip_osteoarthritis"].probability


def test_age_and_sex(syn):
    young = ddx.rank(pm([("groin", "left", 5)], age=25), syn)
    old = ddx.rank(pm([("groin", "left", 5)], age=75), syn)
    assert by_id(old)["hip_osteoarthritis"].probability > by_id(young)["hip_osteoarthritis"].probability
    assert any(w.text.startswith("age 75: a typical age (x") for w in by_id(old)["hip_osteoarthritis"].why)
    f = ddx.rank(pm(sex="female"), syn)
    m = ddx.rank(pm(sex="male"), syn)
    o = ddx.rank(pm(sex="other"), syn)
    assert (by_id(f)["gtps_gluteal_tendinopathy"].probability > by_id(o)["gtps_gluteal_tendinopathy"].probability
            > by_id(m)["gtps_gluteal_tendinopathy"].probability)


def test_age_counts_smoothly_with_no_step_at_a_bands_edge(syn):
    """A band's likelihood holds in full at its centre; between centres it changes gradually and
    in one direction, so 49 and 50 differ by as little as 48 and 49."""
    def p(age):
        return by_id(ddx.rank(pm([("groin", "left", 5)], age=age), syn))["hip_osteoarthritis"].probability
    ages = list(range(18, 95))
    ps = [p(a) for a in ages]
    assert all(b >= a - 1e-12 for a, b in zip(ps, ps[1:]))          # hip OA: more likely with every year
    steps = np.diff(ps)
    assert abs(p(50) - p(49)) <= 1.5 * abs(p(49) - p(48)) + 1e-12
    assert steps.max() < 0.5 * (ps[-1] - ps[0])                       # no single year carries the change
    assert p(18) == pytest.approx(p(24)) and p(80) == pytest.approx(p(94))     # the end bands: flat
    table = syn.vs_rest.age
    assert ddx._age_log_lr(table, 40) == pytest.approx(table[:, 1])
    assert ddx._age_log_lr(table, 50) == pytest.approx(0.5 * (table[:, 1] + table[:, 2]))


def test_age_over_50_is_not_counted_twice_when_the_age_is_given(syn):
    a = ddx.rank(pm(age=60), syn)
    b = ddx.rank(pm(age=60, red_flags=["age_over_50"]), syn)
    assert [c.probability for c in a.candidates] == pytest.approx([c.probability for c in b.candidates])
    assert a.alerts == b.alerts == ()
    assert [w.id for w in a.worth_telling] == [w.id for w in b.worth_telling] == ["age_over_50"]


# -- grouping, caps, tempering, ceiling -------------------------------------------------------------------


def test_a_symptom_and_the_test_that_provokes_it_count_once():
    m = ddx.model()
    i = m.ids.index("gtps_gluteal_tendinopathy")
    where = [("lateral_hip_trochanter", "right", 7)]

    def ev(**kw):
        return m.evidence(pm(where, **kw))["total"][i]

    base = ev()
    sym = ev(aggravators=["single_leg_stance"]) - base
    test = ev(findings=["single_leg_stance_pain"]) - base
    both = ev(aggravators=["single_leg_stance"], findings=["single_leg_stance_pain"]) - base
    assert sym > 0 and test > 0
    assert both == pytest.approx(max(sym, test) + PRM.residual_weight * min(sym, test))
    assert both < sym + test


@pytest.mark.parametrize("items", [
    {"aggravators": ["long_stride_walking"], "relievers": ["short_stride_walking"], "findings": ["long_stride_walking_test_positive"]},
    {"qualities": ["stiffness"], "aggravators": ["morning_stiffness"]},
    {"aggravators": ["tight_clothing_belt"], "relievers": ["loosening_belt"]},
])
def test_correlated_answers_count_once(items):
    """Each named cluster of the issue moves every condition by less than its items would
    separately, and by no more than one capped group."""
    m = ddx.model()
    base = m.evidence(pm([("buttock_lower_medial", "left", 5)]))["total"]
    together = m.evidence(pm([("buttock_lower_medial", "left", 5)], **items))["total"] - base
    apart = sum(m.evidence(pm([("buttock_lower_medial", "left", 5)], **{k: [x]}))["total"] - base
                for k, xs in items.items() for x in xs)
    assert np.all(np.abs(together) <= LEAD * m.group_cap.max() + 1e-9)
    pos = (together > 0) & (apart > 0)
    assert pos.any() and np.all(together[pos] < apart[pos] + 1e-9)


def test_neighbouring_painted_regions_count_as_one_area():
    m = ddx.model()
    i = m.ids.index("radiculopathy_L5")
    def loc(*regions):
        return m.location_loglik(*m.encode_location(pm([("lateral_calf", "left", 6), *regions])))[i, 0]

    base = loc()
    one, alone = loc(("dorsum_foot", "left", 6)) - base, loc(("big_toe", "left", 6)) - base
    two = loc(("dorsum_foot", "left", 6), ("big_toe", "left", 6)) - base
    assert one > 0 and alone > 0
    assert two < one + alone  # same cluster: the second region adds only its residual weight
    # the whole drawing is capped
    everything = pm([(r, "left" if r in V.sided_regions else "midline", 10) for r in REGION_IDS])
    assert np.all(np.abs(m.location_loglik(*m.encode_location(everything))) <= PRM.location_cap + 1e-9)


def test_evidence_is_tempered_and_capped(syn):
    m = ddx.model()
    ci = m.ids.index("cauda_equina_syndrome")
    one = m.evidence(pm(red_flags=["saddle_anaesthesia"]))["total"][ci]
    both = m.evidence(pm(red_flags=["saddle_anaesthesia", "bladder_or_bowel_dysfunction"]))["total"][ci]
    assert 0 < one <= both <= LEAD * PRM.group_cap + 1e-9
    # two pieces of evidence for a condition: the stronger counts at LEAD, the other at ALPHA
    other = m.evidence(pm(red_flags=["bilateral_leg_symptoms"]))["total"][ci] / LEAD  # another group
    flag = one / LEAD
    together = m.evidence(pm(red_flags=["saddle_anaesthesia", "bilateral_leg_symptoms"]))["total"][ci]
    assert other > 0 and flag > 0
    assert together == pytest.approx(LEAD * max(other, flag) + ALPHA * min(other, flag))
    assert together < other + flag


def test_a_group_cap_rises_to_the_strongest_published_likelihood_ratio():
    """A group holding a cited test may count up to that test's published LR for the condition
    (never above published_cap_max); groups of estimates keep the global cap."""
    m = ddx.model()
    from hipviz.knowledge.loader import knowledge
    raised = 0
    for ci, cid in enumerate(m.ids):
        for f in knowledge()[cid].condition.findings:
            g = m.item_group[m.item_index[("findings", f.id)]]
            lp, ln_ = f.likelihood_ratios()
            strength = min(max(math.log(lp), -math.log(ln_)), PRM.published_cap_max)
            if f.basis == "cited" and strength > PRM.group_cap:
                assert m.group_cap[ci, g] >= strength - 1e-9   # another cited test of the group may be stronger
                raised += 1
    assert raised > 0
    assert m.group_cap.min() == pytest.approx(PRM.group_cap)
    assert m.group_cap.max() <= PRM.published_cap_max + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_no_condition_is_shown_above_the_ceiling(data):
    m = ddx.model()
    r = ddx.rank(data.draw(painmaps()))
    shown_prior = {m.ids[i]: m.prior[i] for i in range(len(m.ids))}
    for idx in m.family_members.values():
        shown_prior[m.ids[m.umbrella[idx[0]]]] = sum(m.prior[j] for j in idx)
    for c in r.candidates:
        assert 0 < c.probability <= 1 - PRM.misfit * (1 - shown_prior[c.condition]) + 1e-12
        assert c.band == ddx.band(c.probability)
    assert 0 < r.something_else < 1


def test_conditions_can_coexist_and_something_else_has_its_own_share():
    r = ddx.rank(PainMap.from_file(EXAMPLES / "s1_sciatica.json"))
    p = by_id(r)
    assert p["radiculopathy_S1"].probability > 0.5 and p["radiculopathy_L5"].probability > 0.3
    assert sum(c.probability for c in r.candidates) > 1  # each its own probability, not shares of 100%
    odd = ddx.rank(pm([("knee_posterior", "left", 8), ("heel", "right", 8)], qualities=["cramping"]))
    assert odd.something_else > r.something_else


# -- families: sub-types of one problem -------------------------------------------------------------------


def test_identical_sub_types_do_not_take_probability_from_each_other():
    e = synthetic_entries()
    g = e["gtps_gluteal_tendinopathy"]
    for cid, prior in (("trochanteric_bursitis", 0.05), ("gluteal_tendon_tear", 0.05)):
        c = g.condition.model_copy(update={"id": cid, "prior": g.condition.prior.model_copy(update={"value": prior})})
        e[cid] = Entry(c, g.pattern.model_copy(update={"condition": cid}))
    fam = ddx.Model.from_entries(e)
    e2 = synthetic_entries()
    e2["gtps_gluteal_tendinopathy"] = Entry(g.condition.model_copy(update={"prior": g.condition.prior.model_copy(update={"value": 0.4})}),
                                            g.pattern)
    alone = ddx.Model.from_entries(e2)
    m = pm([("lateral_hip_trochanter", "right", 7)], aggravators=["lying_on_side"])
    a, b = by_id(ddx.rank(m, fam)), by_id(ddx.rank(m, alone))
    assert a["gtps_gluteal_tendinopathy"].probability == pytest.approx(b["gtps_gluteal_tendinopathy"].probability)
    total = a["gtps_gluteal_tendinopathy"].probability
    assert a["trochanteric_bursitis"].subtype_of == "gtps_gluteal_tendinopathy" and a["trochanteric_bursitis"].family
    # identical profiles: each sub-type keeps its prior share of the family
    assert a["trochanteric_bursitis"].probability == pytest.approx(total * 0.05 / 0.4, rel=0.05)


def test_lateral_hip_pain_is_one_family_on_the_real_model():
    r = ddx.rank(PainMap.from_file(EXAMPLES / "gtps_side_lying.json"))
    p = by_id(r)
    g = p["gtps_gluteal_tendinopathy"]
    assert r.candidates[0] is g
    for sub in ("trochanteric_bursitis", "gluteal_tendon_tear"):
        assert p[sub].subtype_of == g.condition and p[sub].family == g.family == "lateral_hip_gtps"
        assert p[sub].probability < g.probability
    assert p["trochanteric_bursitis"].probability < 0.1  # no longer ~18% of every lateral hip map
    assert any(w.kind == "family" for w in g.why) and any(w.kind == "family" for w in p["gluteal_tendon_tear"].why)


def test_single_leg_stance_test_counts_more_for_tendinopathy_than_for_tear_or_bursitis():
    m = ddx.model()
    j = m.item_index[("findings", "single_leg_stance_pain")]
    yes = {c: m.p_item[m.ids.index(c), j] for c in ("gtps_gluteal_tendinopathy", "gluteal_tendon_tear", "trochanteric_bursitis")}
    assert yes["gtps_gluteal_tendinopathy"] > yes["gluteal_tendon_tear"] > yes["trochanteric_bursitis"]
    where = [("lateral_hip_trochanter", "right", 7)]
    a, b = by_id(ddx.rank(pm(where))), by_id(ddx.rank(pm(where, findings=["single_leg_stance_pain"])))
    for sub in ("gluteal_tendon_tear", "trochanteric_bursitis"):
        share = lambda r, s=sub: r[s].probability / r["gtps_gluteal_tendinopathy"].probability
        assert share(b) < share(a)


# -- evidence pointing the right way ------------------------------------------------------------------------


def test_a_positive_straight_leg_raise_favours_the_root_over_piriformis():
    m = ddx.model()
    j = m.item_index[("findings", "slr_positive")]
    pir, s1 = m.ids.index("piriformis_syndrome"), m.ids.index("radiculopathy_S1")
    assert m.vs_rest.yes[s1, j] > m.vs_rest.yes[pir, j]
    where = [("buttock_lower_medial", "left", 6), ("posterior_thigh", "left", 4)]
    a = by_id(ddx.rank(pm(where, aggravators=["sitting_long"])))
    b = by_id(ddx.rank(pm(where, aggravators=["sitting_long"], findings=["slr_positive"])))
    assert b["radiculopathy_S1"].log_odds - a["radiculopathy_S1"].log_odds > b["piriformis_syndrome"].log_odds - a["piriformis_syndrome"].log_odds
    # pain worse on sitting is a cardinal feature of piriformis syndrome (HOPAYIAN10): a positive
    # SLR narrows the gap; without it, the SLR puts the root first
    c = by_id(ddx.rank(pm(where)))
    d = by_id(ddx.rank(pm(where, findings=["slr_positive"])))
    assert c["radiculopathy_S1"].probability < c["piriformis_syndrome"].probability
    assert d["radiculopathy_S1"].probability > d["piriformis_syndrome"].probability


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_negative_straight_leg_raise_never_lifts_piriformis(data):
    m = data.draw(painmaps())
    assume("slr_positive" not in m.findings and "slr_positive" not in m.negative_findings)
    before = by_id(ddx.rank(m))["piriformis_syndrome"].probability
    after_map = PainMap.from_dict({**m.to_dict(), "negative_findings": [*m.negative_findings, "slr_positive"]})
    assert by_id(ddx.rank(after_map))["piriformis_syndrome"].probability <= before + 1e-12


# -- alerts come from the triage rules -----------------------------------------------------------------------------


def test_emergency_warning_signs_move_the_emergency_to_the_top():
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 8)], aggravators=["lying_on_side"], red_flags=["bladder_or_bowel_dysfunction"]))
    top = r.candidates[0]
    assert top.condition == "cauda_equina_syndrome" and top.promoted and top.band_label == ddx.PROMOTED_LABEL
    assert top.why[0].text.startswith("moved to the top: emergency warning sign (New trouble controlling the bladder or bowels)")
    assert r.alerts[0].level == "emergency" and "cauda_equina_syndrome" in r.alerts[0].rule_out
    r = ddx.rank(pm([("groin", "left", 5)], red_flags=["pulsatile_abdominal_mass"]))
    assert r.candidates[0].condition == "abdominal_aortic_aneurysm" and r.alerts[0].level == "emergency"
    assert list(r.to_dict())[0] == "alerts"


def test_a_risk_factor_neither_alerts_nor_promotes():
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 9)], red_flags=["smoker"]))
    assert r.alerts == () and not any(c.promoted for c in r.candidates)
    assert r.candidates[0].condition == "gtps_gluteal_tendinopathy"
    assert [w.id for w in r.worth_telling] == ["smoker"]


def test_an_urgent_alert_lists_what_to_rule_out_first_and_soon_does_not():
    r = ddx.rank(pm([("groin", "right", 6)], red_flags=["unable_to_hop", "low_energy_availability"]))
    (a,) = r.alerts
    assert a.level == "urgent" and a.rule_out == ("femoral_neck_stress_fracture",)
    first = r.candidates[0]
    assert first.condition == "femoral_neck_stress_fracture" and first.promoted_level == "urgent"
    assert first.band_label == "Rule out today" and first.why[0].text.startswith("moved to the top: urgent warning sign")
    assert [c.condition for c in r.candidates if c.promoted] == ["femoral_neck_stress_fracture"]
    # the probability stays what the evidence says: listing first is not a higher number
    alone = ddx.rank(pm([("groin", "right", 6)], red_flags=["low_energy_availability"]))
    p_alone = next(c.probability for c in alone.candidates if c.condition == "femoral_neck_stress_fracture")
    assert first.probability < 0.9 and first.probability >= p_alone
    soon = ddx.rank(pm([("groin", "right", 6)], red_flags=["unable_to_hop"]))
    assert soon.alerts[0].level == "soon" and not any(c.promoted for c in soon.candidates)


def test_a_soon_rule_merged_into_an_urgent_alert_does_not_list_its_conditions_first():
    """Fever with constant back pain: the 'soon' rest-pain rule joins the urgent fever alert, but
    its conditions (a hip bone problem among them) are not 'rule out today' for a back."""
    r = ddx.rank(pm([("low_back_central", "midline", 8)],
                    red_flags=["fever_or_infection_signs", "constant_non_mechanical_pain"]))
    (a,) = r.alerts
    assert a.level == "urgent" and "avascular_necrosis" in a.rule_out  # still named in the alert
    assert a.promote == ("spinal_malignancy_or_infection",)
    assert [c.condition for c in r.candidates if c.promoted] == ["spinal_malignancy_or_infection"]


# -- ask next -----------------------------------------------------------------------------------------------


def test_ask_next_picks_separating_unanswered_questions(syn):
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 6), ("lateral_thigh", "right", 4)]), syn)
    assert r.ask_next
    q = r.ask_next[0]
    assert q.information_gain > 0
    assert re.search(r"\(separates Patient \S+ from Patient \S+\)$", q.question)
    top = sorted(r.candidates, key=lambda c: -c.probability)[: ddx.ASK_TOP]
    assert set(q.separates) <= {c.condition for c in top}
    gains = [x.information_gain for x in r.ask_next]
    assert gains == sorted(gains, reverse=True)
    r2 = ddx.rank(pm([("lateral_hip_trochanter", "right", 6)], aggravators=sorted(V.aggravators), qualities=sorted(V.qualities)), syn)
    assert not ({x.id for x in r2.ask_next} & (set(V.aggravators) | set(V.qualities)))


def test_result_to_dict_follows_the_json_contract(syn):
    r = ddx.rank(pm([("groin", "left", 5)], red_flags=["unable_to_hop"], findings=["hip_internal_rotation_limited"]), syn)
    d = json.loads(json.dumps(r.to_dict()))
    assert list(d) == ["alerts", "candidates", "something_else", "worth_telling", "ask_next", "disclaimer"]
    for c in d["candidates"]:
        assert {"condition", "side", "probability", "band", "source_kind", "why", "reasons"} <= set(c)
        assert 0 <= c["probability"] <= 1 and c["band"] in ddx.BANDS and c["source_kind"] in ddx.SOURCE_KINDS
        assert all(isinstance(w, str) for w in c["why"])
    (a,) = d["alerts"]
    assert a["level"] == "soon" and a["warning_signs"] == ["unable_to_hop"] and a["rule_out"] == ["femoral_neck_stress_fracture"]
    assert d["ask_next"] and "question" in d["ask_next"][0]
    probs = [x["probability"] for x in d["candidates"]]
    assert probs == sorted(probs, reverse=True)
    assert 0 <= d["something_else"]["probability"] <= 1


# -- properties on the real knowledge base -------------------------------------------------------------------

MIDLINE = {r for r in REGION_IDS if r not in V.sided_regions}
RISK = set(__import__("hipviz.triage", fromlist=["rules"]).rules().risk_factors)


@st.composite
def painmaps(draw):
    regions = {}
    for r, s, i in draw(st.lists(st.tuples(st.sampled_from(REGION_IDS), st.sampled_from(["left", "right"]),
                                           st.one_of(st.integers(0, 10), st.floats(0, 10, allow_nan=False))), max_size=10)):
        s = "midline" if r in MIDLINE else s
        regions[(r, s)] = {"region": r, "side": s, "intensity": i}

    def sub(ids, n=5):
        return draw(st.lists(st.sampled_from(sorted(ids)), max_size=n, unique=True))

    findings = sub(V.findings, 6)
    negative = [f for f in sub(V.findings, 6) if f not in findings]
    d = {"format": "hipviz-painmap", "version": 1, "regions": list(regions.values()),
         "qualities": sub(V.qualities), "aggravators": sub(V.aggravators), "relievers": sub(V.relievers),
         "red_flags": sub(V.red_flags, 3), "findings": findings, "negative_findings": negative}
    age = draw(st.one_of(st.none(), st.integers(0, 120)))
    if age is not None:
        d["age"] = age
    sex = draw(st.one_of(st.none(), st.sampled_from(V.sexes)))
    if sex is not None:
        d["sex"] = sex
    return PainMap.from_dict(d)


def _swap(text: str) -> str:
    return re.sub(r"\b(left|right)\b", lambda m: "right" if m.group(1) == "left" else "left", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(painmaps())
def test_mirroring_the_map_mirrors_the_result(m):
    """Left and right are handled exactly symmetrically: the mirrored map gives the same ranking,
    bitwise-equal probabilities, left/right swapped in the reported sides and in the reasons, and
    the same alerts, something-else share and questions."""
    a, b = ddx.rank(m), ddx.rank(m.mirrored())
    assert [c.condition for c in a.candidates] == [c.condition for c in b.candidates]
    swap = {"left": "right", "right": "left"}
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert x.probability == y.probability and x.log_odds == y.log_odds
        assert swap.get(x.side, x.side) == y.side
        if x.side in ("left", "right") or not ddx.model().same_side[ddx.model().ids.index(x.condition)]:
            assert [_swap(w.text) for w in x.why] == [w.text for w in y.why]
    assert a.alerts == b.alerts
    assert a.something_else == b.something_else
    assert a.ask_next == b.ask_next


@settings(max_examples=150, deadline=None)
@given(painmaps(), st.data())
def test_adding_a_supporting_finding_never_lowers_that_condition(m, data):
    """For any map and any condition c, adding to `findings` a test that makes c more likely than
    "not c" (P(positive | c) above the background) never lowers c's probability; its log odds
    rise by at most the LR of the test at the lead weight (less when it is not the strongest piece,
    shares a group with answers already given, or its group is capped). For a family umbrella the test must support every
    member: the family's probability then never falls (the sub-types' shares may move)."""
    model = ddx.model()
    ci = data.draw(st.integers(0, len(model.ids) - 1))
    cid = model.ids[ci]
    members = model.family_members.get(model.family_of[ci], (ci,)) if model.umbrella[ci] == ci else (ci,)
    assume(not (model.family_of[ci] and model.umbrella[ci] != ci))  # a sub-type's probability is its family's times a share
    supported = [f for f in model.finding_ids_supporting(members) if f not in m.findings and f not in m.negative_findings]
    assume(supported)
    f = data.draw(st.sampled_from(supported))
    before = by_id(ddx.rank(m))[cid]
    after = by_id(ddx.rank(PainMap.from_dict({**m.to_dict(), "findings": [*m.findings, f]})))[cid]
    assert after.probability >= before.probability - 1e-12
    j = model.item_index[("findings", f)]
    if len(members) == 1:
        assert -1e-9 <= after.log_odds - before.log_odds <= LEAD * model.vs_rest.yes[ci, j] + 1e-9


@settings(max_examples=150, deadline=None)
@given(painmaps(), st.lists(st.sampled_from(sorted(V.red_flags)), min_size=1, max_size=4, unique=True))
def test_every_warning_sign_alerts_and_risk_factors_alone_never_say_now(m, flags):
    """Whatever else the map says, each ticked warning sign is named by an alert (emergency,
    urgent or soon), listed before the candidates; risk factors on their own never make an
    emergency or urgent alert."""
    m = PainMap.from_dict({**m.to_dict(), "red_flags": flags})
    r = ddx.rank(m)
    named = {s for a in r.alerts for s in a.warning_signs}
    assert {f for f in flags if f not in RISK} <= named
    assert all(a.level in ("emergency", "urgent", "soon") for a in r.alerts)
    if all(f in RISK for f in flags) and not m.findings:
        assert all(a.level == "soon" for a in r.alerts)
    assert {w.id for w in r.worth_telling} >= {f for f in flags if f in RISK}
    assert list(r.to_dict())[0] == "alerts"
    assert all(0 < c.probability < 1 for c in r.candidates)


# -- example patient maps --------------------------------------------------------------------------------------

EXAMPLES = data_dir("pain_maps") / "examples"
INDEX = json.loads((EXAMPLES / "index.json").read_text())


def test_there_are_at_least_twelve_examples_and_all_are_indexed():
    files = {p.name for p in EXAMPLES.glob("*.json")} - {"index.json"}
    assert len(files) >= 12
    assert files == set(INDEX)
    for meta in INDEX.values():
        assert meta["story"] and meta["expect_top"]
        assert set(meta["expect_top"]) <= set(V.conditions)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_example_ranks_its_expected_condition_in_the_top_three(name):
    m = PainMap.from_file(EXAMPLES / name)
    r = ddx.rank(m)
    top3 = r.top(3)
    for cid in INDEX[name]["expect_top"]:
        assert cid in top3, f"{name}: expected {cid} in the top 3, got {top3}"
    model = ddx.model()
    serious = {cid for cid in INDEX[name]["expect_top"] if model.urgency[model.ids.index(cid)] != "routine"}
    signs = [f for f in m.red_flags if f not in RISK]
    if serious and signs:  # a warning sign: an alert that names the condition to rule out
        assert r.alerts and any(set(a.rule_out) & serious for a in r.alerts)
    elif serious and m.red_flags:  # only risk factors: no alert, but they are worth telling
        assert all(a.level == "soon" for a in r.alerts)
        assert any(set(w.raises) & serious for w in r.worth_telling)


# -- history items for spinal infection, stress fracture and arterial claudication -------------------


def _p(result, cid):
    return by_id(result)[cid].probability


def test_infection_risk_factors_raise_spinal_infection_without_fever():
    """Central low back pain without fever: diabetes and a recent injection or operation raise
    the probability of spinal infection (they are its commonest risk factors); a normal CRP or ESR
    lowers it."""
    base = pm([("low_back_central", "midline", 8)], age=63, sex="male")
    risk = pm([("low_back_central", "midline", 8)], age=63, sex="male",
              red_flags=["diabetes", "recent_injection_or_operation"])
    normal_crp = pm([("low_back_central", "midline", 8)], age=63, sex="male",
                    negative_findings=["raised_inflammatory_markers"])
    p0 = _p(ddx.rank(base), "spinal_malignancy_or_infection")
    assert _p(ddx.rank(risk), "spinal_malignancy_or_infection") > 1.3 * p0
    assert _p(ddx.rank(normal_crp), "spinal_malignancy_or_infection") < 0.6 * p0


def test_injecting_drugs_raises_septic_arthritis_of_the_hip():
    groin = [("groin", "left", 6), ("anterior_thigh", "left", 4)]
    p0 = _p(ddx.rank(pm(groin, age=32, sex="female")), "septic_arthritis_hip")
    p1 = _p(ddx.rank(pm(groin, age=32, sex="female", red_flags=["injecting_drug_use"])), "septic_arthritis_hip")
    assert p1 > 2 * p0


def test_training_history_raises_femoral_neck_stress_fracture_over_fai():
    """A young runner with groin pain: a recent rise in training and endurance running move the
    stress fracture up relative to FAI. Endurance running and the running aggravator count once,
    as a group; the rise in training load counts on its own."""
    groin = [("groin", "left", 6)]
    before = ddx.rank(pm(groin, age=24, sex="female", aggravators=["running"]))
    after = ddx.rank(pm(groin, age=24, sex="female", aggravators=["running"],
                        red_flags=["recent_training_increase", "endurance_training"]))
    ratio_before = _p(before, "femoral_neck_stress_fracture") / _p(before, "fai_labral_tear")
    ratio_after = _p(after, "femoral_neck_stress_fracture") / _p(after, "fai_labral_tear")
    assert ratio_after > 1.5 * ratio_before
    m = ddx.model()
    assert m.item_group[m.item_index[("red_flags", "endurance_training")]] == \
        m.item_group[m.item_index[("aggravators", "running")]]


def test_aortoiliac_claudication_ranks_for_buttock_and_thigh_pain_on_walking():
    """Buttock and thigh pain that comes on after a set walking distance and goes on standing
    still, in an older male smoker with a weak groin pulse (Leriche), puts arterial claudication
    in the top three; without the claudication history and pulse it is not the leader."""
    regions = [("buttock_upper", "left", 6), ("buttock_lateral", "left", 5), ("posterior_thigh", "left", 4)]
    full = ddx.rank(pm(regions, age=62, sex="male", aggravators=["walking", "walking_set_distance"],
                       relievers=["standing_still"], red_flags=["smoker", "erectile_dysfunction"],
                       findings=["reduced_femoral_pulse", "reduced_foot_pulses"]))
    assert "vascular_claudication" in full.top(3)
    bare = ddx.rank(pm(regions, age=62, sex="male"))
    assert bare.top(1) != ["vascular_claudication"]
    assert _p(full, "vascular_claudication") > 3 * _p(bare, "vascular_claudication")


def test_a_pattern_can_say_how_often_the_other_side_hurts():
    """Sacral insufficiency fractures were bilateral in 11 of 25 women (SCHINDLER07): the pattern's
    other_side_share replaces the default for the mirror-image regions; other patterns keep it."""
    m = ddx.model()
    k = 3 * REGION_IDS.index("buttock_upper")
    sif = m.p_region[m.ids.index("sacral_insufficiency_fracture"), 0]
    assert sif[k + 2] == pytest.approx(0.44 * sif[k + 1])
    gt = m.p_region[m.ids.index("gtps_gluteal_tendinopathy"), 0]
    k = 3 * REGION_IDS.index("lateral_hip_trochanter")
    assert gt[k + 2] == pytest.approx(max(ddx.W_FLOOR, ddx.CONTRALATERAL * gt[k + 1]))
    # both sides painted now counts less against the fracture than with the default share
    both = pm([("low_back_central", "midline", 5), ("buttock_upper", "left", 5), ("buttock_upper", "right", 5)],
              age=81, sex="female")
    one = pm([("low_back_central", "midline", 5), ("buttock_upper", "left", 5)], age=81, sex="female")
    r_both, r_one = by_id(ddx.rank(both)), by_id(ddx.rank(one))
    drop_sif = r_both["sacral_insufficiency_fracture"].probability / r_one["sacral_insufficiency_fracture"].probability
    drop_gt = r_both["gtps_gluteal_tendinopathy"].probability / r_one["gtps_gluteal_tendinopathy"].probability
    assert drop_sif > drop_gt


# -- patterns with alternative forms ---------------------------------------------------------------


CALF = {"posterior_calf": 0.6, "lateral_calf": 0.3}
THIGH = {"buttock_upper": 0.5, "posterior_thigh": 0.4}


def _claudication_entries(with_forms: bool):
    e = synthetic_entries()
    marginal = {r: 0.5 * CALF.get(r, 0.0) + 0.5 * THIGH.get(r, 0.0) for r in {**CALF, **THIGH}}
    forms = [{"id": "calf", "label": "the calf form", "weight": 0.5, "basis": "estimate", "regions": CALF},
             {"id": "thigh", "label": "the buttock-and-thigh form", "weight": 0.5, "basis": "estimate", "regions": THIGH}]
    e["vascular_claudication"] = Entry(condition("vascular_claudication", 0.05),
                                       pattern("vascular_claudication", marginal, forms=forms if with_forms else ()))
    return e


def test_a_map_matching_one_form_is_scored_against_the_mixture():
    """P(map | c) = sum_k w_k P(map | c, form k): a map that matches one form well scores higher
    than against the forms' average (which marks it down for the other form's regions), and
    exactly log sum_k w_k exp(L_k) of the per-form location evidence."""
    mix = ddx.Model.from_entries(_claudication_entries(True))
    avg = ddx.Model.from_entries(_claudication_entries(False))
    i = mix.ids.index("vascular_claudication")
    x, a = mix.encode_location(pm([("buttock_upper", "left", 2), ("posterior_thigh", "left", 2)]))
    assert mix.location_loglik(x, a)[i, 0] > avg.location_loglik(x, a)[i, 0] + 0.2
    comps = np.flatnonzero(mix.comp_cond == i)
    per_form, _ = mix._location(mix.vs_rest, x, a)
    expected = np.log(np.sum(0.5 * np.exp(per_form[comps])))
    assert mix.location_loglik(x, a)[i, 0] == pytest.approx(expected)
    assert len(comps) == 2 and np.allclose(np.exp(mix.comp_logw[comps]), 0.5)


def test_the_reasons_name_the_matching_form():
    mix = ddx.Model.from_entries(_claudication_entries(True))
    for regions, label in (([("buttock_upper", "left", 6), ("posterior_thigh", "left", 5)], "buttock-and-thigh"),
                           ([("posterior_calf", "right", 6)], "the calf form")):
        r = ddx.rank(pm(regions), mix)
        c = by_id(r)["vascular_claudication"]
        forms = [w for w in c.why if w.kind == "form"]
        assert len(forms) == 1 and label in forms[0].text
        ev = mix.evidence(pm(regions), detail=True)
        i = mix.ids.index("vascular_claudication")
        assert forms[0].factor == pytest.approx(math.exp(ev["form"][1][i]), rel=1e-3)
        assert forms[0].direction == "note"


def test_mirroring_a_map_mirrors_a_mixture_pattern():
    mix = ddx.Model.from_entries(_claudication_entries(True))
    i = mix.ids.index("vascular_claudication")
    left = pm([("buttock_upper", "left", 6), ("posterior_calf", "left", 3)])
    right = pm([("buttock_upper", "right", 6), ("posterior_calf", "right", 3)])
    ll_l = mix.location_loglik(*mix.encode_location(left))[i]
    ll_r = mix.location_loglik(*mix.encode_location(right))[i]
    assert ll_l[0] == pytest.approx(ll_r[1]) and ll_l[1] == pytest.approx(ll_r[0])
    assert by_id(ddx.rank(left, mix))["vascular_claudication"].probability == pytest.approx(
        by_id(ddx.rank(right, mix))["vascular_claudication"].probability)
