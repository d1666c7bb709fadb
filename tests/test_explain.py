"""The explanation card: every condition, both registers, accuracy, grades, links, disclaimer."""

from __future__ import annotations

import json

import pytest

from hipviz.ddx import DISCLAIMER
from hipviz.explain import GRADE_LABELS, card, markdown
from hipviz.knowledge.loader import knowledge
from hipviz.vocabulary import vocabulary

CONDITIONS = list(knowledge())


@pytest.mark.parametrize("cid", CONDITIONS)
def test_card_for_every_condition(cid):
    c = card(cid)
    k = knowledge()[cid].condition
    assert c.name == k.names.patient and c.clinician_name == k.names.clinician
    for part in (c.summary, c.pathophysiology):
        assert part["patient"] and part["clinician"] and part["patient"] != part["clinician"]
    assert c.referral["patient"] and c.referral["segments"]
    assert len(c.tests) == len(k.findings)
    for t in c.tests:
        assert t.label == vocabulary().findings[t.id]
        assert t.basis in ("cited", "estimate") and t.basis_label
        assert t.accuracy and ("sensitivity" in t.accuracy or "LR+" in t.accuracy)
    assert len(c.treatments) == len(k.treatments)
    for t in c.treatments:
        assert t.grade_label == GRADE_LABELS[t.grade] and t.findings
    assert c.refer_when
    assert [f["label"] for f in c.red_flags] == [vocabulary().red_flags[f["id"]] for f in c.red_flags]
    assert {f["id"] for f in c.red_flags} | {f["id"] for f in c.risk_factors} <= set(k.red_flags)   # risk factors: where they raise it
    # the condition's own references, plus those of the shared self-care advice it uses
    keys = [r.key for r in c.references]
    assert len(keys) == len(set(keys)) and {r.key for r in k.references} <= set(keys)
    cited = {x for t in c.tests for x in t.references} | {x for t in c.treatments for x in t.references}
    cited |= {x for a in c.self_care for x in a.references}
    cited |= {x for n in (c.medicine_safety or {}).values() for x in n["references"]}
    cited |= set(c.physiotherapy["references"]) if c.physiotherapy else set()
    assert cited <= set(keys), sorted(cited - set(keys))
    assert c.referral["kind"] == k.referral_path.path_kind and c.referral["kind_label"]
    assert c.referral["kind_label"] in md_all(c)
    for r in c.references:
        if r.pmid:
            assert f"https://pubmed.ncbi.nlm.nih.gov/{r.pmid}/" in r.links
        if r.doi:
            assert f"https://doi.org/{r.doi}" in r.links
    assert c.disclaimer == DISCLAIMER
    json.dumps(c.to_dict())  # plain data
    md = markdown(c)
    assert md.startswith(f"# {c.name}") and DISCLAIMER in md
    for t in c.treatments:
        assert t.intervention in md
    for r in c.references:
        assert f"[{r.key}]" in md


def md_all(c):
    return markdown(c)


@pytest.mark.parametrize("cid", CONDITIONS)
def test_card_pain_relief_and_everyday_words(cid):
    c = card(cid)
    k = knowledge()[cid].condition
    assert [w["word"] for w in c.everyday_words] == [w.word for w in k.everyday_words]
    assert [a.topic for a in c.self_care] == sorted((a.topic for a in k.self_care),
                                                     key=["what_to_do_now", "paracetamol", "nsaids", "other_medicines",
                                                          "ice_heat", "activity", "posture", "strengthening",
                                                          "injections", "surgery", "physiotherapy"].index)
    for a in c.self_care:
        assert a.patient and a.clinician and a.patient != a.clinician and a.grade_label == GRADE_LABELS[a.grade]
    topics = {a.topic for a in c.self_care}
    assert set(c.medicine_safety or {}) == topics & {"paracetamol", "nsaids"}
    patient, clinician = c.markdown("patient"), c.markdown("clinician")
    if c.self_care:
        assert "## Pain relief and self-care" in patient
        for a in c.self_care:
            assert a.patient in patient and a.clinician not in patient
            assert a.clinician in clinician
    for w in c.everyday_words:
        assert w["word"] in patient
    if c.urgency == "emergency":  # medical care first; only the condition's own rehabilitation note
        assert c.physiotherapy is None and "## Seeing a physiotherapist" not in patient
    else:
        assert c.physiotherapy and "## Seeing a physiotherapist" in patient


def test_medicine_safety_and_direct_access_in_plain_words():
    c = card("gtps_gluteal_tendinopathy")
    md = c.markdown("patient")
    assert "Paracetamol (acetaminophen)" in md and "Anti-inflammatory medicines" in md
    assert "stomach ulcer" in c.medicine_safety["nsaids"]["patient"]
    assert "4 g" in c.medicine_safety["paracetamol"]["patient"]
    assert "without a doctor's referral" in c.physiotherapy["patient"] and "state" in c.physiotherapy["patient"]
    assert "CNT13" in {r.key for r in c.references} and "OJHA14" in {r.key for r in c.references}
    assert "pillow between the knees" in md


def test_card_says_which_kind_of_pain():
    assert card("gtps_gluteal_tendinopathy").referral["kind_label"] == "Local pain"
    sij = card("sacroiliac_joint_pain")
    assert sij.referral["kind_label"] == "Somatic referred pain"
    assert "not a trapped nerve" in sij.referral["kind_explanation"]["patient"].lower()
    assert card("radiculopathy_S1").referral["kind"] == "radicular"
    md = card("hip_osteoarthritis").markdown("patient")
    assert "**Somatic referred pain.**" in md


def test_registers():
    c = card("gtps_gluteal_tendinopathy")
    patient, clinician = c.markdown("patient"), c.markdown("clinician")
    assert c.summary["patient"] in patient and c.summary["clinician"] not in patient
    assert c.summary["clinician"] in clinician and c.summary["patient"] not in clinician
    both = c.markdown()
    assert c.summary["patient"] in both and c.summary["clinician"] in both
    with pytest.raises(ValueError):
        c.markdown("student")


def test_accuracy_is_labelled_published_only_when_cited():
    c = card("gtps_gluteal_tendinopathy")
    t = {t.id: t for t in c.tests}
    assert t["single_leg_stance_pain"].accuracy == "LR+ 7.5, LR- 0.62"
    assert t["trochanter_tenderness"].accuracy == "sensitivity 85%, specificity 45%"
    # tests for the condition come before the ones arguing against it
    assert c.tests[0].id == "single_leg_stance_pain" and c.tests[-1].id in ("neuro_deficit_present", "big_toe_extension_weakness")
    md = c.markdown()
    assert "LR+ 7.5" in md and "(estimate" in md and "Published accuracy" not in md
    assert "Accuracy (published, with its source, or estimate)" in md
    assert t["single_leg_stance_pain"].provenance == "estimate, based on [GRIMALDI17, LEQUESNE08]"
    assert t["trendelenburg_positive"].provenance == "published [BIRD01]"
    every = [t for cid in CONDITIONS for t in card(cid).tests]
    cited = [t for t in every if t.basis == "cited"]
    assert cited and all(t.basis_label == "published" and t.references and t.provenance.startswith("published [") for t in cited)
    assert all(t.basis_label == "estimate" and "published" not in t.provenance for t in every if t.basis != "cited")


@pytest.mark.parametrize("cid, test, caveat", [
    ("gtps_gluteal_tendinopathy", "single_leg_stance_pain", "control_based_specificity"),
    ("gtps_gluteal_tendinopathy", "resisted_external_derotation_pain", "control_based_specificity"),
    ("proximal_hamstring_tendinopathy", "bent_knee_stretch_pain", "control_based_specificity"),
    ("piriformis_syndrome", "seated_piriformis_stretch_pain", "control_based_specificity"),
    ("radiculopathy_S1", "achilles_reflex_reduced", "interval_crosses_1"),
    ("hip_osteoarthritis", "hip_internal_rotation_limited", "criteria_set"),
    ("gluteal_tendon_tear", "trendelenburg_positive", "other_target_condition"),
])
def test_caveats_are_disclosed(cid, test, caveat):
    from hipviz.explain import CAVEAT_LABELS

    c = card(cid)
    t = next(t for t in c.tests if t.id == test)
    assert CAVEAT_LABELS[caveat] in t.caveats
    assert CAVEAT_LABELS[caveat] in c.markdown("clinician")
    # the patient register shows no test figures, so no caveat on them either
    assert t.accuracy not in c.markdown("patient")


def test_the_patient_register_has_no_figures_of_tests_or_trials():
    from hipviz.app.cards import card_html
    from hipviz.explain import TESTS_FOR_PATIENTS

    for cid in ("gtps_gluteal_tendinopathy", "radiculopathy_S1", "hip_osteoarthritis", "fai_labral_tear"):
        c = card(cid)
        for text in (c.markdown("patient"), card_html(c, "patient")):
            assert TESTS_FOR_PATIENTS in text
            assert not any(t.findings in text for t in c.treatments), cid
            assert not any(t.label in text and t.accuracy in text for t in c.tests if t.accuracy), cid
            for word in ("LR+", "LR-", "NNT", "95% CI", "sensitivity", "specificity", "p="):
                assert word not in text, (cid, word)
        clin = card_html(c, "clinician")
        assert all(t.findings.split()[0] in clin for t in c.treatments)


def test_citations_say_what_the_sources_are():
    fnsf = {r.key: r for r in card("femoral_neck_stress_fracture").references}
    assert "report of four cases" in fnsf["BIZ17"].citation and "Review of femoral neck" not in fnsf["BIZ17"].citation
    tear = next(t for t in card("gluteal_tendon_tear").tests if t.id == "trendelenburg_positive")
    assert tear.basis == "estimate" and "not for tears" in tear.note
    oa = next(t for t in card("hip_osteoarthritis").tests if t.id == "hip_internal_rotation_limited")
    assert (oa.sensitivity, oa.specificity) != (0.86, 0.75) and "whole criteria set" in oa.note


def test_expert_derived_patterns_are_labelled():
    c = card("gluteus_medius_trigger_points")
    assert c.pattern["basis"] == "expert_opinion"
    assert "not validated" in c.pattern["basis_label"] and "not validated" in c.markdown()


def test_emergency_card_says_seek_care():
    md = card("cauda_equina_syndrome").markdown("patient")
    assert "seek medical care now" in md.lower()
    assert "- Numbness between the legs or around the back passage: **Emergency: seek medical care now**" in md
    assert "- Leg weakness that is getting worse: **Urgent: see a doctor today**" in md


def test_unknown_condition():
    with pytest.raises(KeyError, match="unknown condition"):
        card("sciatica")
    with pytest.raises(KeyError):
        card(None)


def test_path_steps_do_not_repeat_their_kind():
    import re

    from hipviz.app.cards import path_html
    from hipviz.atlas.meshes import load_atlas
    from hipviz.referral import referral_path

    atlas = load_atlas()
    for cid in ("facet_joint_pain", "hip_osteoarthritis", "femoral_neck_stress_fracture"):
        text = path_html(referral_path(cid, "right", atlas), None, False)
        assert not re.search(r"\b(joint|bone)</b> <span>\1\b", text), cid
