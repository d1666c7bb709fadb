"""The knowledge base: every condition file and referral pattern validates and cross-references."""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from hipviz.atlas.catalog import catalog
from hipviz.knowledge import loader
from hipviz.knowledge.loader import knowledge
from hipviz.knowledge.schema import Condition, ReferralPattern
from pydantic import ValidationError
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary

V = vocabulary()
IDS = list(V.conditions)
CONDITIONS_DIR = resources.files("hipviz.knowledge").joinpath("conditions")
PATTERNS_DIR = data_dir("pain_maps") / "patterns"


def test_knowledge_loads_every_condition_in_vocabulary_order():
    k = knowledge()
    assert list(k) == IDS
    for cid, e in k.items():
        assert e.condition.id == cid and e.pattern.condition == cid


def test_loader_command_reports_everything_ok(capsys):
    assert loader.main() == 0
    out = capsys.readouterr().out
    assert out.count("ok    ") == len(IDS) + 1 and "FAIL" not in out  # + the shared self-care library
    assert "ok    self_care.yaml" in out


def test_no_stray_knowledge_files():
    yaml_ids = {p.name[:-5] for p in CONDITIONS_DIR.iterdir() if p.name.endswith(".yaml")}
    json_ids = {p.stem for p in PATTERNS_DIR.glob("*.json")}
    assert yaml_ids == set(IDS)
    assert json_ids == set(IDS)


@pytest.mark.parametrize("cid", IDS)
def test_condition_file_validates_on_its_own(cid):
    raw = yaml.safe_load(CONDITIONS_DIR.joinpath(f"{cid}.yaml").read_text("utf-8"))
    c = Condition.model_validate(raw)
    p = ReferralPattern.model_validate(json.loads((PATTERNS_DIR / f"{cid}.json").read_text("utf-8")))
    assert c.id == cid and p.condition == cid


@pytest.mark.parametrize("cid", IDS)
def test_every_reference_key_resolves(cid):
    e = knowledge()[cid]
    c = e.condition
    keys = {r.key for r in c.references}
    used = set(c.prior.references) | set(c.demographics.references) | set(e.pattern.references)
    for f in c.findings:
        used |= set(f.references)
    for t in c.treatments:
        used |= set(t.references)
    for form in e.pattern.forms:
        used |= set(form.references)
    assert used <= keys, sorted(used - keys)
    for r in c.references:
        assert r.pmid or r.doi or r.unverified


@pytest.mark.parametrize("cid", IDS)
def test_every_region_and_structure_id_resolves(cid):
    e = knowledge()[cid]
    assert set(e.pattern.regions) <= set(V.regions)
    cat = catalog().structures
    for sid in [*e.condition.source_structures, *e.condition.referral_path.steps]:
        assert sid in cat, sid
    for ids, allowed in ((e.condition.qualities, V.qualities), (e.condition.aggravators, V.aggravators),
                         (e.condition.relievers, V.relievers), (e.condition.red_flags, V.red_flags)):
        assert set(ids) <= set(allowed)
    assert {f.id for f in e.condition.findings} <= set(V.findings)


@pytest.mark.parametrize("cid", IDS)
def test_numbers_are_usable_by_the_ranking(cid):
    e = knowledge()[cid]
    c = e.condition
    assert 0 < c.prior.value <= 1
    assert math.isclose(sum(c.demographics.age_bands.values()), 1.0, abs_tol=0.02)
    assert max(e.pattern.regions.values()) >= 0.5, "a referral pattern needs a main site"
    for f in c.findings:
        lp, ln = f.likelihood_ratios()
        assert 0 < lp < math.inf and 0 < ln < math.inf


def test_each_condition_has_its_pattern():
    for cid in IDS:
        assert (PATTERNS_DIR / f"{cid}.json").is_file()


def test_emergency_conditions_list_red_flags():
    urgent = [e.condition for e in knowledge().values() if e.condition.urgency in ("emergency", "soon")]
    assert {c.id for c in urgent} >= {"cauda_equina_syndrome", "abdominal_aortic_aneurysm"}
    for c in urgent:
        assert c.red_flags, f"{c.id} is {c.urgency} but lists no red flags"
        if c.urgency == "emergency":
            assert max(c.red_flags.values()) >= 0.3, f"{c.id}: no red flag is common in it"


def test_every_red_flag_is_listed_by_some_condition():
    listed = set()
    for e in knowledge().values():
        listed |= set(e.condition.red_flags)
    assert listed == set(V.red_flags)


def test_trigger_point_maps_are_labelled_expert_derived():
    tp = [cid for cid, e in knowledge().items() if e.condition.category == "myofascial"]
    assert set(tp) == {"gluteus_medius_trigger_points", "gluteus_minimus_trigger_points",
                       "quadratus_lumborum_trigger_points"}
    for cid in tp:
        e = knowledge()[cid]
        assert e.pattern.basis == "expert_opinion"
        assert "unvalidated" in e.pattern.note.lower() or "not validated" in e.pattern.note.lower()


def test_ranking_data_uses_known_ids_and_rates():
    """knowledge/ranking.yaml: question phrasings and unlisted red-flag rates name real ids."""
    from hipviz.ddx import ranking_data

    v = vocabulary()
    known = {"qualities": v.qualities, "aggravators": v.aggravators, "relievers": v.relievers,
             "red_flags": v.red_flags, "findings": v.findings}
    data = ranking_data()
    for kind, items in data["questions"].items():
        assert set(items) <= set(known[kind]), kind
        assert all(isinstance(q, str) and q.endswith(("?", ")")) for q in items.values())
    rates = data["unlisted_red_flag_rate"]
    assert set(rates) - {"default"} <= set(v.red_flags)
    assert all(0 < r < 0.5 for r in rates.values())


# -- the must-not-miss conditions and common mimics ----------------------------------------------

NEW_CONDITIONS = ("hip_fracture", "septic_arthritis_hip", "sacral_insufficiency_fracture", "vascular_claudication",
                  "lumbar_spinal_stenosis", "axial_spondyloarthritis", "radiculopathy_L1",
                  "adductor_related_groin_pain", "quadratus_lumborum_trigger_points")
NEW_RED_FLAGS = ("fall_from_standing_height", "hot_swollen_joint", "known_osteoporosis", "back_pain_onset_before_45",
                 "morning_stiffness_over_30_min")


def test_new_conditions_and_vocabulary_are_known():
    assert set(NEW_CONDITIONS) <= set(IDS)
    assert set(NEW_RED_FLAGS) <= set(V.red_flags)
    assert {"standing_still", "exercise"} <= set(V.relievers)
    assert {"shortened_externally_rotated_leg", "pain_on_log_roll", "reduced_foot_pulses", "adductor_squeeze_pain",
            "adductor_tenderness"} <= set(V.findings)
    assert V.red_flags["fall_from_standing_height"] == "A fall from standing height or less"
    assert V.red_flags["hot_swollen_joint"] == "A hot, swollen joint"
    assert V.red_flags["morning_stiffness_over_30_min"] == (
        "Morning stiffness that lasts more than 30 minutes and eases with movement")


@pytest.mark.parametrize("cid", NEW_CONDITIONS)
def test_new_conditions_are_complete(cid):
    """Citations, a pattern, a highlight set, a path, both registers, treatments with grades."""
    e = knowledge()[cid]
    c = e.condition
    assert c.references and any(r.pmid or r.doi for r in c.references)
    assert c.treatments and all(t.grade for t in c.treatments)
    assert c.summary.patient != c.summary.clinician
    assert c.referral_path.kind is not None, "new files say which kind of path they draw"
    assert c.everyday_words and c.self_care
    assert max(e.pattern.regions.values()) >= 0.5


def test_history_items_for_the_new_conditions():
    k = knowledge()
    assert k["hip_fracture"].condition.red_flags["fall_from_standing_height"] >= 0.5
    assert k["septic_arthritis_hip"].condition.red_flags["hot_swollen_joint"] > 0
    assert k["axial_spondyloarthritis"].condition.red_flags["back_pain_onset_before_45"] >= 0.5
    assert k["axial_spondyloarthritis"].condition.relievers["exercise"] >= 0.5
    # claudication eases by standing still, neurogenic claudication by sitting or bending forward
    vc, lss = k["vascular_claudication"].condition, k["lumbar_spinal_stenosis"].condition
    assert vc.relievers["standing_still"] > lss.relievers["standing_still"]
    assert lss.relievers["sitting"] > vc.relievers["sitting"]
    assert lss.relievers["lumbar_flexion"] > vc.relievers["lumbar_flexion"]
    assert {f.id for f in vc.findings} >= {"reduced_foot_pulses"}
    assert {f.id for f in k["adductor_related_groin_pain"].condition.findings} >= {"adductor_squeeze_pain",
                                                                                     "adductor_tenderness"}
    assert {f.id for f in k["hip_fracture"].condition.findings} >= {"shortened_externally_rotated_leg",
                                                                     "pain_on_log_roll"}


# -- the kind of referral path (DESIGN.md section 5) ---------------------------------------------


@pytest.mark.parametrize("cid", IDS)
def test_path_kind_matches_the_path(cid):
    """Only radicular paths pass through a nerve root; radicular ones do wherever the atlas has
    the root."""
    rp = knowledge()[cid].condition.referral_path
    roots = [s for s in rp.steps if loader.is_root_structure(s)]
    assert rp.path_kind in ("local", "somatic_referred", "radicular", "nerve_entrapment", "vascular")
    if rp.path_kind == "radicular":
        assert roots
    else:
        assert not roots, f"{cid}: a {rp.path_kind} path runs through {roots}"


def test_path_kinds_of_key_conditions():
    kinds = {cid: e.condition.referral_path.path_kind for cid, e in knowledge().items()}
    for cid in ("gtps_gluteal_tendinopathy", "trochanteric_bursitis", "gluteal_tendon_tear", "hip_fracture",
                "septic_arthritis_hip", "femoral_neck_stress_fracture", "proximal_hamstring_tendinopathy"):
        assert kinds[cid] == "local", cid
    for cid in ("facet_joint_pain", "sacroiliac_joint_pain", "hip_osteoarthritis", "gluteus_medius_trigger_points",
                "gluteus_minimus_trigger_points", "quadratus_lumborum_trigger_points"):
        assert kinds[cid] == "somatic_referred", cid
    for cid in ("radiculopathy_L1", "radiculopathy_L5", "radiculopathy_S1", "lumbar_spinal_stenosis",
                "cauda_equina_syndrome"):
        assert kinds[cid] == "radicular", cid
    assert kinds["meralgia_paresthetica"] == kinds["piriformis_syndrome"] == "nerve_entrapment"
    assert kinds["vascular_claudication"] == kinds["abdominal_aortic_aneurysm"] == "vascular"


def test_loader_rejects_a_tendon_path_through_a_root():
    raw = yaml.safe_load(CONDITIONS_DIR.joinpath("gtps_gluteal_tendinopathy.yaml").read_text("utf-8"))
    raw["referral_path"]["steps"] = ["gluteus_medius", "superior_gluteal_nerve", "nerve_root_l5"]
    with pytest.raises(loader.KnowledgeError, match="must not pass through a nerve root"):
        loader.check_path_kind(Condition.model_validate(raw))
    raw = yaml.safe_load(CONDITIONS_DIR.joinpath("radiculopathy_L5.yaml").read_text("utf-8"))
    raw["referral_path"]["steps"] = ["vertebra_l4", "sciatic_nerve"]
    with pytest.raises(loader.KnowledgeError, match="must pass through its nerve root"):
        loader.check_path_kind(Condition.model_validate(raw))


def test_old_files_without_kind_still_load():
    """Schema additions are optional: a file without kind, everyday words or self-care validates,
    and its kind follows from the mechanism."""
    raw = yaml.safe_load(CONDITIONS_DIR.joinpath("radiculopathy_S1.yaml").read_text("utf-8"))
    for k in ("everyday_words", "self_care"):
        raw.pop(k, None)
    raw["referral_path"].pop("kind")
    c = Condition.model_validate(raw)
    assert c.referral_path.path_kind == "radicular" and c.self_care == [] and c.everyday_words == []


# -- pain relief and everyday words ----------------------------------------------------------------


def test_shared_self_care_library_validates_and_is_used():
    lib = loader.self_care_library()
    assert {"paracetamol", "nsaids"} == set(lib.medicine_safety)
    assert "direct" in lib.physiotherapy.patient and "state" in lib.physiotherapy.patient
    used = {a.use for e in knowledge().values() for a in e.condition.self_care if a.use}
    assert used <= set(lib.entries)
    assert set(lib.entries) - used == set(), f"unused shared entries: {sorted(set(lib.entries) - used)}"
    for e in lib.entries.values():
        if e.grade != "expert_opinion":
            assert e.references, "graded advice needs its trials"


@pytest.mark.parametrize("cid", IDS)
def test_every_condition_has_pain_relief_and_everyday_words(cid):
    c = knowledge()[cid].condition
    topics = {a.topic for a in c.self_care}
    assert c.everyday_words, cid
    if c.urgency == "emergency":
        assert "what_to_do_now" in topics, cid
    else:
        assert {"paracetamol", "nsaids"} & topics or "activity" in topics, cid
    for a in c.self_care:
        if a.grade and a.grade != "expert_opinion" and not a.use and not a.references:
            # a grade without a citation must say that its figures were not verified here
            assert "hipviz evidence table" in a.clinician or "not verified" in a.clinician, f"{cid} {a.topic}"


def test_ranking_model_data_is_consistent():
    """ranking.yaml: unlisted test rates, answer groups, region clusters, families and source
    kinds name real ids; the model builds from them (it checks every region is in one cluster)."""
    from hipviz import ddx

    v = vocabulary()
    data = ddx.ranking_data()
    assert set(data["unlisted_finding_rate"]) - {"default"} <= set(v.findings)
    assert all(0 < r < 0.5 for r in data["unlisted_finding_rate"].values())
    for fam in data["families"].values():
        assert fam["umbrella"] in fam["members"] and set(fam["members"]) <= set(v.conditions)
    assert set(data["source_kinds"]["by_condition"]) <= set(v.conditions)
    m = ddx.model()
    assert set(m.source_kind) <= set(ddx.SOURCE_KINDS)
    assert (m.slot_cluster >= 0).sum() == sum(len(v.region_sides(r)) for r in v.regions)
    p = ddx.params()
    assert 0 < p.evidence_power <= 1 and 0 < p.misfit < 0.5 and 0 < p.something_else_prior < 0.5
    assert [b for b, _ in p.bands] == list(ddx.BANDS)


def test_an_unknown_id_in_the_ranking_data_is_named():
    import copy

    import pytest

    from hipviz import ddx
    from hipviz.knowledge.loader import knowledge

    data = copy.deepcopy(ddx.ranking_data())
    data["answer_groups"]["fall"] = ["red_flags.fall_from_standing_height_x"]
    with pytest.raises(ValueError, match="unknown item 'red_flags.fall_from_standing_height_x'"):
        ddx.Model.from_entries(knowledge(), data)


# -- risk factors for infection, stress fracture and arterial claudication --------------------------

RISK_HISTORY = ("diabetes", "injecting_drug_use", "recent_infection", "recent_injection_or_operation",
                "recent_training_increase", "endurance_training", "erectile_dysfunction")


def test_risk_history_items_are_risk_factors_with_questions():
    """Each new history item is in the vocabulary, is a risk factor for triage (never an alert on
    its own), has its own everyday question and an explicit rate among other conditions."""
    kdir = resources.files("hipviz.knowledge")
    rules = yaml.safe_load(kdir.joinpath("triage.yaml").read_text("utf-8"))
    ranking = yaml.safe_load(kdir.joinpath("ranking.yaml").read_text("utf-8"))
    for f in RISK_HISTORY:
        assert f in V.red_flags
        assert f in rules["risk_factors"], f
        assert ranking["questions"]["red_flags"][f].endswith("?")
        assert f in ranking["unlisted_red_flag_rate"], f
    assert "walking_set_distance" in V.aggravators
    assert {"raised_inflammatory_markers", "reduced_femoral_pulse"} <= set(V.findings)


def test_conditions_list_their_risk_history():
    k = knowledge()
    smi = k["spinal_malignancy_or_infection"].condition
    assert {"diabetes", "injecting_drug_use", "recent_infection", "recent_injection_or_operation"} <= set(smi.red_flags)
    assert "raised_inflammatory_markers" in {f.id for f in smi.findings}
    sah = k["septic_arthritis_hip"].condition
    assert {"diabetes", "injecting_drug_use", "recent_injection_or_operation"} <= set(sah.red_flags)
    fnsf = k["femoral_neck_stress_fracture"].condition
    assert fnsf.red_flags["recent_training_increase"] >= 0.3 and fnsf.red_flags["endurance_training"] >= 0.3
    vc, lss = k["vascular_claudication"].condition, k["lumbar_spinal_stenosis"].condition
    assert vc.aggravators["walking_set_distance"] > lss.aggravators["walking_set_distance"]
    assert "erectile_dysfunction" in vc.red_flags
    assert "reduced_femoral_pulse" in {f.id for f in vc.findings}


def test_claudication_pattern_includes_the_aortoiliac_territory():
    """Aortoiliac disease gives buttock, hip and thigh claudication (Leriche): the pattern weights
    the buttock and the back of the thigh, not only the calf."""
    w = knowledge()["vascular_claudication"].pattern.regions
    assert w["buttock_upper"] >= 0.3 and w["posterior_thigh"] >= 0.3
    assert w["buttock_upper"] >= 0.5 * w["posterior_calf"]


def test_pattern_forms_are_a_proper_mixture():
    """A pattern with alternative forms: at least two, weights summing to 1, every form's regions
    drawn on the pattern's map, each weight cited or marked an estimate; a bad file is refused."""
    with_forms = {cid: e.pattern for cid, e in knowledge().items() if e.pattern.forms}
    assert {"vascular_claudication", "sacroiliac_joint_pain", "hip_osteoarthritis"} <= set(with_forms)
    for cid, p in with_forms.items():
        assert len(p.forms) >= 2
        assert abs(sum(f.weight for f in p.forms) - 1) < 0.02
        for f in p.forms:
            assert set(f.regions) <= set(p.regions)
            assert f.basis == "estimate" or f.references
    base = json.loads((PATTERNS_DIR / "vascular_claudication.json").read_text())
    bad_weights = {**base, "forms": [{**f, "weight": 0.9} for f in base["forms"]]}
    with pytest.raises(ValidationError, match="sum to 1"):
        ReferralPattern.model_validate(bad_weights)
    off_map = {**base, "forms": [{**base["forms"][0], "regions": {"heel": 0.5}}, base["forms"][1]]}
    with pytest.raises(ValidationError, match="not in the pattern"):
        ReferralPattern.model_validate(off_map)
    one = {**base, "forms": base["forms"][:1]}
    with pytest.raises(ValidationError, match="at least two"):
        ReferralPattern.model_validate(one)


def test_every_reference_a_condition_file_lists_is_cited_in_it_or_its_pattern():
    """A reference nobody cites is a list entry that vouches for nothing."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "src/hipviz/knowledge/conditions").glob("*.yaml")):
        text = path.read_text("utf-8")
        data = yaml.safe_load(text)
        pattern = root / "pain_maps/patterns" / f"{data['id']}.json"
        cited_in_pattern = pattern.read_text("utf-8") if pattern.is_file() else ""
        for ref in data["references"]:
            key = ref["key"]
            assert text.count(key) + cited_in_pattern.count(key) >= 2, f"{path.name}: {key} is listed but never cited"


SRC = Path(__file__).resolve().parents[1] / "src/hipviz"


def _strings(node, skip: tuple[str, ...] = ("references", "key")):
    """Every string in a loaded YAML document, leaving out the values under the keys in `skip`."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in skip:
                yield from _strings(v, skip)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, skip)
    elif isinstance(node, str):
        yield node


def test_citations_in_the_texts_are_written_in_square_brackets():
    """One citation style ('[KEY]', '[KEY1, KEY2]') across every card, so a reader can always
    tell a reference from prose; a key written bare or in parentheses is refused."""
    root = SRC / "knowledge"
    files = [*sorted((root / "conditions").glob("*.yaml")), root / "self_care.yaml", root / "triage.yaml"]
    bad = []
    for path in files:
        data = yaml.safe_load(path.read_text("utf-8"))
        keys = [r["key"] for r in data.get("references") or []]
        for text in _strings(data):
            outside = re.sub(r"\[[^\]]*\]", "", text)
            bad += [f"{path.name}: {k}" for k in keys if re.search(rf"(?<![\w]){re.escape(k)}(?![\w])", outside)]
    assert not bad, bad


def test_no_word_is_broken_at_a_line_end_of_a_folded_text():
    """YAML folds a line break into a space, so 'anti-' at the end of a line reads 'anti- inflammatory'
    on the card. A hyphen before 'or', 'and' or 'to' ('partial- or full-thickness') is meant."""
    broken = []
    for path in sorted(SRC.rglob("*.yaml")):
        for text in _strings(yaml.safe_load(path.read_text("utf-8")), skip=()):
            broken += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\w+[a-z]- (?!or |and |to )\w+", text)]
    assert not broken, broken
