"""The knowledge base: every condition file and referral pattern validates and cross-references."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest
import yaml

from hipviz.atlas.catalog import catalog
from hipviz.knowledge import loader
from hipviz.knowledge.loader import knowledge
from hipviz.knowledge.schema import Condition, ReferralPattern
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
    assert out.count("ok    ") == len(IDS) and "FAIL" not in out


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
    for cid in ("gluteus_medius_trigger_points", "gluteus_minimus_trigger_points"):
        assert knowledge()[cid].pattern.basis == "expert_opinion"


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
