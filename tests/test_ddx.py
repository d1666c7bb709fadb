"""The ranking: model arithmetic on synthetic conditions, properties on the real knowledge base,
and the example patient maps."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
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
        "refer_when": ["never in tests"],
        "references": [{"key": "SYN01", "citation": "Synthetic reference for the engine tests", "unverified": "synthetic"}],
    })


def pattern(cid, regions, side_rule="same_side"):
    return ReferralPattern.model_validate({
        "format": "hipviz-referral-pattern", "version": 1, "condition": cid, "side_rule": side_rule,
        "basis": "expert_opinion", "regions": regions,
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


# -- model arithmetic -----------------------------------------------------------------------------------


def test_prior_only_when_nothing_is_given(syn):
    r = ddx.rank(pm(), syn)
    priors = np.array([0.3, 0.2, 0.3, 0.005, 0.02, 0.005])
    priors /= priors.sum()
    got = by_id(r)
    for cid, p in zip(syn.ids, priors, strict=True):
        assert got[cid].score == pytest.approx(p)
        assert got[cid].side is None
    assert sum(c.score for c in r.candidates) == pytest.approx(1.0)
    assert r.alerts == ()
    assert r.disclaimer.startswith("hipviz gives educational information, not a diagnosis")


def test_baseline_is_the_prior_weighted_average(syn):
    """Each symptom LR is p(c) / sum_c prior(c) p(c): an item equally likely everywhere is neutral."""
    s = syn.symptoms["aggravators"]
    j = s.index["lying_on_side"]
    prior = np.exp(syn.log_prior)
    baseline = prior @ s.p[:, j]
    assert np.allclose(np.exp(s.log_lr[:, j]), s.p[:, j] / baseline)
    # red flags unlisted by a condition take the documented default; age_over_50 comes from the age bands
    red = syn.symptoms["red_flags"]
    assert red.p[syn.ids.index("gtps_gluteal_tendinopathy"), red.index["presyncope"]] == ddx.unlisted_red_flag_rate("presyncope")
    assert red.p[syn.ids.index("hip_osteoarthritis"), red.index["age_over_50"]] == pytest.approx(0.9)
    # location baseline: the prior-weighted average of P(painted) over conditions and sides
    k = 3 * REGION_IDS.index("groin") + 1
    base = np.einsum("c,chs->s", prior, syn.p_region)[k] / 2
    assert np.allclose(np.exp(syn.loc_pos[:, 0, k]), syn.p_region[:, 0, k] / base)


def test_an_item_every_condition_shares_changes_nothing():
    e = synthetic_entries()
    for cid, entry in list(e.items()):
        c = entry.condition.model_copy(update={"qualities": {**entry.condition.qualities, "throbbing": 0.4}})
        e[cid] = Entry(c, entry.pattern)
    m = ddx.Model.from_entries(e)
    a = ddx.rank(pm([("groin", "left", 5)]), m)
    b = ddx.rank(pm([("groin", "left", 5)], qualities=["throbbing"]), m)
    assert [c.score for c in a.candidates] == pytest.approx([c.score for c in b.candidates])


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
    assert any(t.startswith("no pain at groin, left: against Patient hip_osteoarthritis (x0.") for t in text), text


def test_same_side_painting_both_sides_costs_something(syn):
    one = syn.location_loglik(*syn.encode_location(pm([("lateral_hip_trochanter", "right", 7)])))
    both = syn.location_loglik(*syn.encode_location(pm([("lateral_hip_trochanter", "right", 7), ("lateral_hip_trochanter", "left", 7)])))
    i = syn.ids.index("gtps_gluteal_tendinopathy")
    assert both[i].max() < one[i].max()
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 7), ("lateral_hip_trochanter", "left", 7)]), syn)
    assert by_id(r)["gtps_gluteal_tendinopathy"].side == "either"  # symmetric map: no side preferred


def test_both_sides_and_midline_rules(syn):
    r = ddx.rank(pm([("posterior_thigh", "right", 5), ("posterior_thigh", "left", 5), ("low_back_central", "midline", 6)]), syn)
    assert by_id(r)["cauda_equina_syndrome"].side == "both"
    r = ddx.rank(pm([("low_back_central", "midline", 6)]), syn)
    assert by_id(r)["abdominal_aortic_aneurysm"].side == "midline"
    assert by_id(r)["gtps_gluteal_tendinopathy"].side == "midline"
    # a both_sides pattern does not care which side is painted
    a = ddx.rank(pm([("posterior_thigh", "right", 5)]), syn)
    b = ddx.rank(pm([("posterior_thigh", "left", 5)]), syn)
    assert by_id(a)["cauda_equina_syndrome"].log_score == by_id(b)["cauda_equina_syndrome"].log_score


def test_intensity_weights_painted_regions_a_little(syn):
    lo = ddx.rank(pm([("lateral_hip_trochanter", "right", 1)]), syn)
    hi = ddx.rank(pm([("lateral_hip_trochanter", "right", 10)]), syn)
    assert by_id(hi)["gtps_gluteal_tendinopathy"].score > by_id(lo)["gtps_gluteal_tendinopathy"].score


def test_intensity_zero_counts_as_not_painted(syn):
    a = ddx.rank(pm([("groin", "left", 0)]), syn)
    b = ddx.rank(pm(), syn)
    assert [c.score for c in a.candidates] == [c.score for c in b.candidates]


def test_findings_use_lr_plus_and_lr_minus_with_their_source(syn):
    base = ddx.rank(pm([("lateral_calf", "left", 5)]), syn)
    pos = ddx.rank(pm([("lateral_calf", "left", 5)], findings=["big_toe_extension_weakness"]), syn)
    neg = ddx.rank(pm([("lateral_calf", "left", 5)], negative_findings=["big_toe_extension_weakness"]), syn)
    b, p, n = (by_id(r)["radiculopathy_L5"] for r in (base, pos, neg))
    assert p.log_score - b.log_score == pytest.approx(math.log(5.0))
    assert n.log_score - b.log_score == pytest.approx(math.log(0.5))
    assert "Big toe extension (EHL) weakness (found): supports (LR+ 5.0, SYN01)" in [w.text for w in p.why]
    assert "Big toe extension (EHL) weakness: tested, not found: against (LR- 0.50, SYN01)" in [w.text for w in n.why]
    # unlisted findings are neutral
    g = by_id(pos)["gtps_gluteal_tendinopathy"].log_score - by_id(base)["gtps_gluteal_tendinopathy"].log_score
    assert g == pytest.approx(0.0)


def test_sensitivity_and_specificity_become_likelihood_ratios(syn):
    i, f = syn.ids.index("gtps_gluteal_tendinopathy"), syn.finding_index["single_leg_stance_pain"]
    assert math.exp(syn.log_lr_pos[i, f]) == pytest.approx(0.6 / 0.1)
    assert math.exp(syn.log_lr_neg[i, f]) == pytest.approx(0.4 / 0.9)


def test_questionnaire_absence_counts_for_nothing(syn):
    """Not ticking an aggravator is not a "no": only ticked items change the scores."""
    a = ddx.rank(pm([("groin", "left", 5)]), syn)
    b = ddx.rank(pm([("groin", "left", 5)], aggravators=["stairs"]), syn)
    # stairs: GTPS 0.5, OA 0.5, others 0.1: both lateral-hip and OA rise together
    assert by_id(b)["hip_osteoarthritis"].score > by_id(a)["hip_osteoarthritis"].score


def test_age_and_sex(syn):
    young = ddx.rank(pm([("groin", "left", 5)], age=25), syn)
    old = ddx.rank(pm([("groin", "left", 5)], age=75), syn)
    assert by_id(old)["hip_osteoarthritis"].score > by_id(young)["hip_osteoarthritis"].score
    assert any(w.text.startswith("age 75: a typical age (x") for w in by_id(old)["hip_osteoarthritis"].why)
    f = ddx.rank(pm(sex="female"), syn)
    m = ddx.rank(pm(sex="male"), syn)
    o = ddx.rank(pm(sex="other"), syn)
    assert by_id(f)["gtps_gluteal_tendinopathy"].score > by_id(o)["gtps_gluteal_tendinopathy"].score > by_id(m)["gtps_gluteal_tendinopathy"].score


def test_age_over_50_is_not_counted_twice_when_the_age_is_given(syn):
    a = ddx.rank(pm(age=60), syn)
    b = ddx.rank(pm(age=60, red_flags=["age_over_50"]), syn)
    assert [c.score for c in a.candidates] == pytest.approx([c.score for c in b.candidates])
    assert len(b.alerts) == 1


# -- red flags ---------------------------------------------------------------------------------------------


def test_red_flag_alert_names_the_urgent_conditions_and_is_never_outvoted(syn):
    # everything else points to the lateral hip
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 9), ("lateral_thigh", "right", 5)],
                    aggravators=["lying_on_side", "stairs"], findings=["single_leg_stance_pain"], age=55, sex="female",
                    red_flags=["saddle_anaesthesia"]), syn)
    assert len(r.alerts) == 1
    a = r.alerts[0]
    assert a.level == "emergency" and a.red_flags == ("saddle_anaesthesia",)
    assert a.rule_out == ("cauda_equina_syndrome", "femoral_neck_stress_fracture")
    assert "seek medical care now" in a.message
    assert a.message.startswith("Red flag: Numbness between the legs or around the back passage. It can be a sign of Patient cauda_equina_syndrome or Patient femoral_neck_stress_fracture")
    top = r.candidates[0]
    assert top.condition == "cauda_equina_syndrome" and top.promoted
    assert top.why[0].text.startswith("moved to the top: red flag present")
    assert r.candidates[1].condition == "gtps_gluteal_tendinopathy"
    assert list(r.to_dict())[0] == "alerts"


def test_a_risk_factor_alerts_but_does_not_promote(syn):
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 9)], red_flags=["smoker"]), syn)
    assert len(r.alerts) == 1 and "seek medical care now" in r.alerts[0].message
    assert r.alerts[0].level == "urgent" and r.alerts[0].rule_out == ("cauda_equina_syndrome",)
    assert r.candidates[0].condition == "gtps_gluteal_tendinopathy" and not r.candidates[0].promoted


def test_flags_are_grouped_by_level(syn):
    r = ddx.rank(pm(red_flags=["smoker", "saddle_anaesthesia", "bladder_or_bowel_dysfunction", "unable_to_hop"]), syn)
    assert [(a.level, a.red_flags) for a in r.alerts] == [
        ("emergency", ("saddle_anaesthesia", "bladder_or_bowel_dysfunction")),
        ("urgent", ("smoker", "unable_to_hop")),
    ]
    assert r.alerts[0].message.startswith("Red flags: Numbness between the legs or around the back passage; New trouble controlling "
                                          "the bladder or bowels. These can be signs of Patient cauda_equina_syndrome")
    assert r.alerts[1].rule_out == ("cauda_equina_syndrome", "femoral_neck_stress_fracture")


def test_a_flag_no_condition_lists_still_alerts(syn):
    r = ddx.rank(pm(red_flags=["presyncope"]), syn)
    (a,) = r.alerts
    assert a.rule_out == () and a.level == "urgent"
    assert a.message == ("Red flag: Feeling faint or about to pass out. It can be a sign of a serious cause that must be ruled out. "
                         "Please seek medical care now: see a doctor promptly rather than waiting for this to settle.")


def test_soon_conditions_are_named_but_not_promoted(syn):
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 9)], red_flags=["unable_to_hop"]), syn)
    (a,) = r.alerts
    assert a.rule_out == ("femoral_neck_stress_fracture",) and a.level == "urgent"
    assert not any(c.promoted for c in r.candidates)


# -- ask next -----------------------------------------------------------------------------------------------


def test_ask_next_picks_separating_unanswered_questions(syn):
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 6), ("lateral_thigh", "right", 4)]), syn)
    assert r.ask_next
    q = r.ask_next[0]
    assert q.information_gain > 0
    assert re.search(r"\(separates Patient \S+ from Patient \S+\)$", q.question)
    assert set(q.separates) <= {c.condition for c in r.candidates[: ddx.ASK_TOP]}
    gains = [x.information_gain for x in r.ask_next]
    assert gains == sorted(gains, reverse=True)
    asked = {x.id for x in r.ask_next}
    r2 = ddx.rank(pm([("lateral_hip_trochanter", "right", 6)], aggravators=sorted(V.aggravators), qualities=sorted(V.qualities)), syn)
    assert not ({x.id for x in r2.ask_next} & (set(V.aggravators) | set(V.qualities)))
    assert asked


def test_result_to_dict_is_json(syn):
    r = ddx.rank(pm([("groin", "left", 5)], red_flags=["unable_to_hop"], findings=["hip_internal_rotation_limited"]), syn)
    d = json.loads(json.dumps(r.to_dict()))
    assert set(d) == {"alerts", "candidates", "ask_next", "disclaimer"}
    c = d["candidates"][0]
    assert {"condition", "score", "side", "why", "reasons"} <= set(c)
    assert all(isinstance(w, str) for w in c["why"])
    assert d["ask_next"] and "question" in d["ask_next"][0]
    assert [x["score"] for x in d["candidates"]] == sorted([x["score"] for x in d["candidates"]], reverse=True)


# -- properties on the real knowledge base -------------------------------------------------------------------

MIDLINE = {r for r in REGION_IDS if r not in V.sided_regions}


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
    bitwise-equal scores, left/right swapped in the reported sides and in the reasons, and the same
    alerts and questions."""
    a, b = ddx.rank(m), ddx.rank(m.mirrored())
    assert [c.condition for c in a.candidates] == [c.condition for c in b.candidates]
    swap = {"left": "right", "right": "left"}
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert x.score == y.score and x.log_score == y.log_score
        assert swap.get(x.side, x.side) == y.side
        if x.side in ("left", "right") or not ddx.model().same_side[ddx.model().ids.index(x.condition)]:
            assert [_swap(w.text) for w in x.why] == [w.text for w in y.why]
    assert a.alerts == b.alerts
    assert a.ask_next == b.ask_next


@settings(max_examples=150, deadline=None)
@given(painmaps(), st.data())
def test_adding_a_supporting_finding_never_lowers_that_condition(m, data):
    """For any map and any condition c, adding to `findings` a test that c's data lists with LR+ > 1
    (and that the map has not recorded yet) never lowers c's unnormalised log score (prior × all
    likelihood ratios); it rises by exactly log LR+. Normalised scores may move either way."""
    model = ddx.model()
    ci = data.draw(st.integers(0, len(model.ids) - 1))
    cid = model.ids[ci]
    supported = [f for f in model.finding_ids if model.log_lr_pos[ci, model.finding_index[f]] > 0
                 and f not in m.findings and f not in m.negative_findings]
    if not supported:
        return
    f = data.draw(st.sampled_from(supported))
    before = {c.condition: c.log_score for c in ddx.rank(m).candidates}
    after_map = PainMap.from_dict({**m.to_dict(), "findings": [*m.findings, f]})
    after = {c.condition: c.log_score for c in ddx.rank(after_map).candidates}
    assert after[cid] >= before[cid]
    assert after[cid] - before[cid] == pytest.approx(model.log_lr_pos[ci, model.finding_index[f]])


@settings(max_examples=150, deadline=None)
@given(painmaps(), st.lists(st.sampled_from(sorted(V.red_flags)), min_size=1, max_size=4, unique=True))
def test_any_red_flag_always_yields_an_alert(m, flags):
    """Whatever else the map says, each ticked red flag produces an alert telling the user to seek
    medical care now, listed before the candidates."""
    m = PainMap.from_dict({**m.to_dict(), "red_flags": flags})
    r = ddx.rank(m)
    assert {f for a in r.alerts for f in a.red_flags} == set(flags)
    assert all("seek medical care now" in a.message for a in r.alerts)
    assert [a.level for a in r.alerts] in (["emergency"], ["urgent"], ["emergency", "urgent"])
    assert list(r.to_dict())[0] == "alerts"
    assert math.isclose(sum(c.score for c in r.candidates), 1.0)


def test_emergency_flags_put_the_emergency_first_on_the_real_model():
    r = ddx.rank(pm([("lateral_hip_trochanter", "right", 8)], aggravators=["lying_on_side"], red_flags=["bladder_or_bowel_dysfunction"]))
    assert r.candidates[0].condition == "cauda_equina_syndrome"
    r = ddx.rank(pm([("groin", "left", 5)], red_flags=["pulsatile_abdominal_mass"]))
    assert r.candidates[0].condition == "abdominal_aortic_aneurysm"


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
    r = ddx.rank(PainMap.from_file(EXAMPLES / name))
    top3 = r.top(3)
    for cid in INDEX[name]["expect_top"]:
        assert cid in top3, f"{name}: expected {cid} in the top 3, got {top3}"
    urgent = {cid for cid in INDEX[name]["expect_top"] if ddx.model().urgency[ddx.model().ids.index(cid)] != "routine"}
    if urgent and PainMap.from_file(EXAMPLES / name).red_flags:
        assert r.alerts and any(set(a.rule_out) & urgent for a in r.alerts)
