"""Triage by clinical rules (knowledge/triage.yaml), tested as a table: each row is the answers
ticked and the alert level expected, with the warning signs it must name."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hipviz import ddx, triage
from hipviz.explain import card
from hipviz.knowledge.loader import knowledge
from hipviz.painmap import PainMap
from hipviz.vocabulary import vocabulary

V = vocabulary()
RULES = triage.rules()
RISK = set(RULES.risk_factors)


def level(red_flags=(), findings=(), age=None, painted=()):
    """The most urgent level raised (None when no alert)."""
    alerts = triage.evaluate(red_flags, findings, age, painted)
    return alerts[0].level if alerts else None


# (answers ticked, age, painted regions) -> expected most urgent level
TABLE = [
    # nothing, or only risk factors: never emergency or urgent
    ((), None, (), None),
    (("age_over_50",), None, (), None),
    ((), 82, (), None),
    (("smoker",), None, (), None),
    (("heavy_alcohol_use",), None, (), None),
    (("long_term_corticosteroids",), None, (), None),
    (("immunosuppression",), None, (), None),
    (("low_energy_availability",), None, (), None),
    (("history_of_cancer",), None, (), "soon"),
    (("age_over_50", "smoker", "heavy_alcohol_use", "long_term_corticosteroids", "immunosuppression",
      "history_of_cancer", "low_energy_availability"), 70, ("groin",), "soon"),
    # cauda equina syndrome
    (("saddle_anaesthesia",), None, (), "emergency"),
    (("bladder_or_bowel_dysfunction",), None, (), "emergency"),
    (("bilateral_leg_symptoms",), None, (), "soon"),
    (("bilateral_leg_symptoms", "progressive_weakness"), None, (), "emergency"),
    (("progressive_weakness",), None, (), "urgent"),
    # infection, septic joint
    (("fever_or_infection_signs",), None, (), "urgent"),
    (("fever_or_infection_signs", "immunosuppression"), None, (), "urgent"),
    (("fever_or_infection_signs",), None, ("groin",), "emergency"),
    (("fever_or_infection_signs", "unable_to_weight_bear"), None, (), "emergency"),
    (("fever_or_infection_signs", "progressive_weakness"), None, (), "emergency"),
    # cancer
    (("history_of_cancer", "night_or_rest_pain"), None, (), "urgent"),
    (("history_of_cancer", "unexplained_weight_loss"), None, (), "urgent"),
    (("history_of_cancer", "progressive_weakness"), None, (), "emergency"),
    (("unexplained_weight_loss",), None, (), "soon"),
    (("unexplained_weight_loss", "night_or_rest_pain"), None, (), "urgent"),
    (("night_or_rest_pain",), None, (), "soon"),
    (("constant_non_mechanical_pain",), None, (), "soon"),
    # fracture: cannot bear weight is never less urgent than cannot hop
    (("recent_trauma",), None, (), "soon"),
    (("recent_trauma",), 40, (), "soon"),
    (("recent_trauma", "age_over_50"), None, (), "urgent"),
    (("recent_trauma",), 82, (), "urgent"),
    (("recent_trauma", "long_term_corticosteroids"), None, (), "urgent"),
    (("recent_trauma", "unable_to_weight_bear"), None, (), "emergency"),
    (("recent_trauma", "unable_to_weight_bear"), 82, ("groin",), "emergency"),
    (("unable_to_weight_bear",), None, (), "urgent"),
    (("unable_to_weight_bear",), 78, (), "urgent"),
    (("unable_to_weight_bear", "long_term_corticosteroids"), None, (), "urgent"),
    (("unable_to_hop",), None, (), "soon"),
    (("unable_to_hop", "low_energy_availability"), None, (), "urgent"),
    (("progressive_weight_bearing_pain",), None, (), "soon"),
    (("progressive_weight_bearing_pain", "low_energy_availability"), None, (), "urgent"),
    (("progressive_weight_bearing_pain", "unable_to_hop"), None, (), "urgent"),
    (("persisting_pain_normal_xray",), None, (), "soon"),
    (("persisting_pain_normal_xray", "progressive_weight_bearing_pain"), None, (), "urgent"),
    # a fall: an older person who cannot bear weight afterwards is an emergency (hip fracture)
    (("fall_from_standing_height",), None, (), "soon"),
    (("fall_from_standing_height",), 35, (), "soon"),
    (("fall_from_standing_height",), 82, (), "urgent"),
    (("fall_from_standing_height", "known_osteoporosis"), None, (), "urgent"),
    (("fall_from_standing_height", "unable_to_weight_bear"), 82, (), "emergency"),
    (("fall_from_standing_height", "unable_to_weight_bear"), None, (), "emergency"),
    (("recent_trauma", "known_osteoporosis"), None, (), "urgent"),
    (("known_osteoporosis",), 82, (), None),
    # risk factors for infection, stress fracture and arterial disease never alert on their own
    (("diabetes",), 70, (), None),
    (("injecting_drug_use",), 30, (), None),
    (("recent_infection", "diabetes"), 60, (), None),
    (("recent_injection_or_operation",), 65, ("low_back_central",), None),
    (("recent_training_increase", "endurance_training"), 25, ("groin",), None),
    (("erectile_dysfunction", "smoker"), 70, (), None),
    # a hot swollen joint is infected until shown otherwise
    (("hot_swollen_joint",), None, (), "urgent"),
    (("hot_swollen_joint", "fever_or_infection_signs"), None, (), "emergency"),
    (("hot_swollen_joint", "unable_to_weight_bear"), None, (), "emergency"),
    (("hot_swollen_joint", "immunosuppression"), None, (), "emergency"),
    # inflammatory back pain: a reason to be seen, never more than "soon"
    (("back_pain_onset_before_45",), None, (), None),
    (("morning_stiffness_over_30_min",), None, (), None),
    (("back_pain_onset_before_45", "morning_stiffness_over_30_min"), 30, (), "soon"),
    # abdominal aortic aneurysm
    (("pulsatile_abdominal_mass",), None, (), "urgent"),
    (("pulsatile_abdominal_mass", "presyncope"), None, (), "emergency"),
    (("pulsatile_abdominal_mass", "constant_non_mechanical_pain"), None, (), "emergency"),
    (("pulsatile_abdominal_mass",), None, ("low_back_central",), "emergency"),
    (("pulsatile_abdominal_mass", "smoker", "age_over_50"), None, (), "urgent"),
    (("presyncope",), None, (), "urgent"),
    (("presyncope",), None, ("lower_abdomen",), "emergency"),
]


@pytest.mark.parametrize("flags, age, painted, expected", TABLE,
                         ids=[f"{'+'.join(r[0]) or 'nothing'}{f'-age{r[1]}' if r[1] else ''}{'-' + '+'.join(r[2]) if r[2] else ''}"
                              for r in TABLE])
def test_triage_table(flags, age, painted, expected):
    alerts = triage.evaluate(flags, (), age, painted)
    assert (alerts[0].level if alerts else None) == expected
    # every warning sign ticked is named by an alert; risk factors alone never make one
    named = {s for a in alerts for s in a.warning_signs}
    assert {f for f in flags if f not in RISK} <= named
    assert [a.level for a in alerts] == sorted((a.level for a in alerts), key=triage.level_rank)
    for a in alerts:
        assert a.title == RULES.levels[a.level]["title"] and RULES.levels[a.level]["action"] in a.message


def test_table_size_and_every_rule_is_exercised():
    assert len(TABLE) >= 45
    fired = set()
    for flags, age, painted, _ in TABLE:
        fired |= {a.rule for a in triage.evaluate(flags, (), age, painted)}
    # a rule may be hidden by a more urgent one; the table reaches most of them directly
    assert len(fired) >= len(RULES.rules) - 6


def test_a_leg_lying_shortened_and_turned_out_is_an_emergency():
    alerts = triage.evaluate((), ("shortened_externally_rotated_leg",), None, ())
    assert alerts and alerts[0].level == "emergency" and "hip_fracture" in alerts[0].rule_out


def test_cannot_bear_weight_is_at_least_as_urgent_as_cannot_hop():
    assert triage.level_rank(level(["unable_to_weight_bear"])) <= triage.level_rank(level(["unable_to_hop"]))


def test_history_of_cancer_is_at_least_as_urgent_as_weight_loss():
    assert triage.level_rank(level(["history_of_cancer"])) <= triage.level_rank(level(["unexplained_weight_loss"]))


def test_alert_wording_matches_the_level():
    assert RULES.levels["emergency"]["title"] == "Emergency: seek medical care now"
    assert RULES.levels["urgent"]["title"] == "Urgent: see a doctor today"
    assert RULES.levels["soon"]["title"] == "See a doctor soon"
    (a,) = triage.evaluate(["unexplained_weight_loss"])
    assert "now" not in a.message.lower().split("weight loss")[0] and "emergency" not in a.message.lower()
    (a,) = triage.evaluate(["saddle_anaesthesia"])
    assert a.message.startswith("Numbness between the legs or around the back passage.")
    assert "emergency department now" in a.message and a.rule_out == ("cauda_equina_syndrome",)


def test_a_less_urgent_alert_about_the_same_condition_joins_the_more_urgent_one():
    alerts = triage.evaluate(["saddle_anaesthesia", "bilateral_leg_symptoms"])
    assert [(a.level, a.warning_signs) for a in alerts] == [("emergency", ("saddle_anaesthesia", "bilateral_leg_symptoms"))]
    # a fall that stops weight-bearing in an older person: one emergency alert
    alerts = triage.evaluate(["recent_trauma", "unable_to_weight_bear"], age=82)
    assert [a.level for a in alerts] == ["emergency"]


def test_every_warning_sign_has_a_rule_of_its_own_and_risk_factors_are_red_flags():
    assert triage.missing_rules() == []
    assert RISK <= set(V.red_flags)
    assert {"age_over_50", "smoker", "heavy_alcohol_use", "long_term_corticosteroids", "history_of_cancer"} <= RISK
    for f in RULES.warning_signs:
        assert level([f]) is not None, f


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(V.red_flags)), max_size=6, unique=True),
       st.one_of(st.none(), st.integers(0, 110)),
       st.lists(st.sampled_from(sorted(V.regions)), max_size=4, unique=True))
def test_properties_of_any_answers(flags, age, painted):
    alerts = triage.evaluate(flags, (), age, painted)
    named = {s for a in alerts for s in a.warning_signs}
    assert {f for f in flags if f not in RISK} <= named  # every warning sign alerts
    if all(f in RISK for f in flags):  # risk factors alone: at most "soon"
        assert all(a.level == "soon" for a in alerts)
    assert all(set(a.rule_out) <= set(V.conditions) for a in alerts)


# -- the rules file is checked against the vocabulary ------------------------------------------------


def raw():
    from importlib import resources

    return yaml.safe_load(resources.files("hipviz.knowledge").joinpath("triage.yaml").read_text("utf-8"))


def test_an_unknown_id_stops_the_load_with_its_name():
    data = raw()
    data["rules"].append({"id": "hip_fracture_exam", "level": "emergency", "all": ["shortened_externally_rotated_leg_x"],
                          "rule_out": [], "says": "A shortened, outward-turned leg after a fall can be a broken hip."})
    with pytest.raises(triage.TriageError, match=r"rule 'hip_fracture_exam': unknown id 'shortened_externally_rotated_leg_x'"):
        triage.load_rules(data)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["rules"][0].update(level="now"), "level 'now' is not one of"),
    (lambda d: d["rules"][0].update(rule_out=["hip_fracture_x"]), "unknown condition 'hip_fracture_x'"),
    (lambda d: d["rules"][0].update(painted_any=["hip"]), "unknown region 'hip'"),
    (lambda d: d["risk_factors"].append("known_osteoporosis_x"), "unknown red flag id 'known_osteoporosis_x'"),
    (lambda d: d["rules"].append({"id": "smokers", "level": "urgent", "any": ["smoker"], "says": "Smoking is bad for the back."}),
     "made only of risk factors"),
    (lambda d: d["rules"].append(dict(d["rules"][0])), "used twice"),
    (lambda d: d["rules"][0].update(references=["NOPE"]), "not listed under references"),
    (lambda d: d["rules"][3].update(promote=["cauda_equina_syndrome"]), "only emergency rules may promote"),
])
def test_invalid_rules_are_refused(change, message):
    data = copy.deepcopy(raw())
    change(data)
    with pytest.raises(triage.TriageError, match=message):
        triage.load_rules(data)


def test_an_unclassified_warning_sign_still_alerts(monkeypatch):
    """A red flag added to the vocabulary before its triage row gets a generic 'soon' alert."""
    data = raw()
    data["rules"] = [r for r in data["rules"] if "presyncope" not in (r.get("any") or []) + (r.get("all") or [])]
    r = triage.load_rules(data)
    assert triage.missing_rules(r) == ["presyncope"]
    (a,) = triage.evaluate(["presyncope"], r=r)
    assert a.level == "soon" and a.warning_signs == ("presyncope",) and a.rule == ""


# -- triage in the ranking, the cards and the report ------------------------------------------------------


def pm(**kw):
    return PainMap.from_dict({"format": "hipviz-painmap", "version": 1, **kw})


def test_the_ranking_takes_its_alerts_from_the_rules():
    r = ddx.rank(pm(red_flags=["age_over_50"]))
    assert r.alerts == () and [w.id for w in r.worth_telling] == ["age_over_50"]
    r = ddx.rank(pm(red_flags=["smoker", "long_term_corticosteroids"], age=45))
    assert r.alerts == ()
    assert {w.id for w in r.worth_telling} == {"smoker", "long_term_corticosteroids"}
    assert "avascular_necrosis" in next(w for w in r.worth_telling if w.id == "long_term_corticosteroids").raises
    r = ddx.rank(pm(regions=[{"region": "groin", "side": "left", "intensity": 6}], red_flags=["fever_or_infection_signs"]))
    assert r.alerts[0].level == "emergency"


def test_condition_cards_list_true_warning_signs_and_risk_factors_apart():
    for cid in knowledge():
        c = card(cid)
        assert not {f["id"] for f in c.red_flags} & RISK, cid
        assert {f["id"] for f in c.risk_factors} <= RISK
        listed = set(knowledge()[cid].condition.red_flags)
        assert {f["id"] for f in c.red_flags} == listed - RISK
        # a risk factor is "worth telling" where it makes the condition more likely, not where the
        # file lists it as uncommon (age over 50 in FAI)
        assert {f["id"] for f in c.risk_factors} == {f for f in listed & RISK if cid in ddx.raised_by(f)}
        assert not {f["id"] for f in c.general_flags} & listed
        assert [f["id"] for f in c.general_flags] == [f for f in RULES.general_warning_signs if f not in listed]
        for f in c.red_flags:
            assert f["action"] == RULES.levels[f["level"]]["title"]
    for cid in ("gtps_gluteal_tendinopathy", "hip_osteoarthritis", "fai_labral_tear", "proximal_hamstring_tendinopathy",
                "sacroiliac_joint_pain"):
        assert "age_over_50" not in {f["id"] for f in card(cid).red_flags}
    avn = card("avascular_necrosis")
    assert "smoker" in {f["id"] for f in avn.risk_factors} and "smoker" not in {f["id"] for f in avn.red_flags}
    md = avn.markdown("patient")
    warn = md[md.index("## Warning signs"):md.index("## Worth telling your clinician")]
    assert "Smoker" not in warn
    own = warn[:warn.index("Whatever the cause")]     # the nerve emergencies follow, on every card
    assert "seek medical care now" not in own.lower()
    assert "Smoker" in md[md.index("## Worth telling your clinician"):]


def test_older_person_who_cannot_bear_weight_is_checked_for_insufficiency_fractures():
    """Without a fall, an older person (or one with steroid-weakened or osteoporotic bone) who
    cannot bear weight is checked today for a hip, femoral neck or sacral insufficiency fracture
    and for an infected hip; a young person for a stress fracture or osteonecrosis."""
    old = triage.evaluate(["unable_to_weight_bear"], [], 78, set())
    assert [a.level for a in old] == ["urgent"]
    assert {"hip_fracture", "sacral_insufficiency_fracture", "septic_arthritis_hip"} <= set(old[0].rule_out)
    young = triage.evaluate(["unable_to_weight_bear"], [], 25, set())
    assert [a.level for a in young] == ["urgent"]
    assert "sacral_insufficiency_fracture" not in young[0].rule_out
    assert "femoral_neck_stress_fracture" in young[0].rule_out


def _level_for(signs: list[str], painted: list[str]) -> str | None:
    alerts = triage.evaluate(signs, signs, painted=painted)
    return min((a.level for a in alerts), key=triage.level_rank) if alerts else None


def test_a_cards_when_to_see_a_clinician_never_says_sooner_or_later_than_the_alert():
    """Each "when to see a clinician" entry that names its warning signs has the level the
    triage rules give those signs (all of `signs` with each one of `any_of`), and its words never
    say how fast: the card prints the alert's own title for its level."""
    checked = 0
    for cid, entry in knowledge().items():
        for x in entry.condition.refer_when:
            for extra in x.any_of or [None]:
                signs = [*x.signs, *([extra] if extra else [])]
                if not signs:
                    continue
                got = _level_for(signs, x.painted)
                assert got == (x.level if x.level in triage.LEVELS else None), (cid, x.when, signs, got)
                checked += 1
        levels = [triage.LEVELS.index(x["level"]) if x["level"] in triage.LEVELS else 3 for x in card(cid).refer_when]
        assert levels == sorted(levels), cid          # most urgent first
    assert checked >= 80


def test_refer_when_wording_and_signs_are_checked_when_the_file_loads():
    from pydantic import ValidationError

    from hipviz.knowledge.schema import ReferWhen

    with pytest.raises(ValidationError, match="says how fast"):
        ReferWhen(when="A painful hip with fever: go to the emergency department", level="emergency")
    with pytest.raises(ValidationError, match="unknown warning sign"):
        ReferWhen(when="Something that is not in the vocabulary", level="soon", signs=["no_such_sign"])
    ok = ReferWhen(when="A painful hip with fever", level="emergency", signs=["fever_or_infection_signs"], painted=["groin"])
    assert ok.level == "emergency"


def test_new_sexual_dysfunction_is_a_cauda_equina_warning_sign_but_a_long_standing_erection_problem_is_not():
    assert _level_for(["new_sexual_dysfunction"], []) == "emergency"
    assert "erectile_dysfunction" in RISK and _level_for(["erectile_dysfunction"], []) is None
    ces = card("cauda_equina_syndrome")
    assert "new_sexual_dysfunction" in {f["id"] for f in ces.red_flags}
    assert "erectile_dysfunction" not in {f["id"] for f in ces.red_flags} | {f["id"] for f in ces.risk_factors}


def test_every_card_lists_the_nerve_emergencies_and_no_card_calls_a_risk_factor_against_it_a_reason():
    """The radiculopathy cards once left out saddle numbness and bladder or bowel trouble because
    they list warning signs of their own; and "aged over 50" was "worth telling" on the FAI card,
    whose own text says FAI is mostly under 50."""
    for cid in knowledge():
        c = card(cid)
        shown = {f["id"] for f in c.red_flags} | {f["id"] for f in c.general_flags}
        assert {"saddle_anaesthesia", "bladder_or_bowel_dysfunction"} <= shown, cid
        md = c.markdown("patient")
        assert "Numbness between the legs" in md[md.index("## Warning signs"):], cid
    assert "age_over_50" not in {f["id"] for f in card("fai_labral_tear").risk_factors}
    assert "age_over_50" in {f["id"] for f in card("hip_osteoarthritis").risk_factors}
