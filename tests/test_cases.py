"""The published-case evaluation set (bench/cases) and its benchmark (bench/bench_cases.py).

These tests check the set and that the benchmark runs and reports its figures. They assert no
accuracy threshold: the figures measure the model, they are reported, not tuned to.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from hipviz.painmap import PainMap
from hipviz.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "bench" / "cases"
BENCH = ROOT / "bench" / "bench_cases.py"
FILES = sorted(CASES.glob("*.json"))


def _bench():
    spec = importlib.util.spec_from_file_location("bench_cases", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_cases"] = mod
    spec.loader.exec_module(mod)
    return mod


bench = _bench()


def test_there_are_at_least_40_cases():
    assert len(FILES) >= 40, f"only {len(FILES)} case files in {CASES}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_case_file(path):
    data = json.loads(path.read_text("utf-8"))
    # both tiers are valid pain maps
    for tier in ("patient", "clinician"):
        PainMap.from_dict(data[tier])
    # a citation that can be looked up
    cit = data["citation"]
    assert any(cit.get(k) for k in ("pmid", "doi", "pmcid")), f"{path.name}: citation needs a PMID, DOI or PMCID"
    for k in ("authors", "title", "journal", "year"):
        assert cit.get(k), f"{path.name}: citation.{k} missing"
    # a known condition id
    assert data["diagnosis"] in vocabulary().conditions
    # the patient tier has no examination findings
    assert not data["patient"].get("findings"), f"{path.name}: patient tier has findings"
    assert not data["patient"].get("negative_findings"), f"{path.name}: patient tier has negative findings"
    # the clinician tier is the patient tier plus examination (and what the examiner found)
    for k in ("regions", "qualities", "aggravators", "relievers", "age", "sex"):
        assert data["clinician"].get(k) == data["patient"].get(k), f"{path.name}: tiers differ in {k}"
    assert set(data["patient"].get("red_flags", [])) <= set(data["clinician"].get("red_flags", []))
    assert data["notes"].strip()
    # the loader agrees
    case = bench.load_case(path)
    assert case.diagnosis == data["diagnosis"]


def test_cases_are_distinct_documents():
    seen = {}
    for p in FILES:
        d = json.loads(p.read_text("utf-8"))
        key = json.dumps([d["citation"].get("doi") or d["citation"].get("pmid") or d["citation"].get("pmcid"), d["patient"]], sort_keys=True)
        assert key not in seen, f"{p.name} duplicates {seen.get(key)}"
        seen[key] = p.name


def test_invalid_case_names_file_and_field(tmp_path):
    good = json.loads(FILES[0].read_text("utf-8"))
    bad = json.loads(json.dumps(good))
    bad["patient"]["regions"][0]["region"] = "elbow"
    (tmp_path / "broken_case.json").write_text(json.dumps(bad))
    with pytest.raises(bench.CaseError) as e:
        bench.load_cases(tmp_path)
    msg = str(e.value)
    assert "broken_case.json" in msg and "patient.regions[0]" in msg

    bad = json.loads(json.dumps(good))
    bad["patient"]["findings"] = ["slr_positive"]
    (tmp_path / "broken_case.json").write_text(json.dumps(bad))
    with pytest.raises(bench.CaseError, match=r"broken_case\.json: patient\.findings"):
        bench.load_cases(tmp_path)

    bad = json.loads(json.dumps(good))
    bad["diagnosis"] = "gout"
    (tmp_path / "broken_case.json").write_text(json.dumps(bad))
    with pytest.raises(bench.CaseError, match=r"broken_case\.json: diagnosis"):
        bench.load_cases(tmp_path)

    bad = json.loads(json.dumps(good))
    for k in ("pmid", "doi", "pmcid"):
        bad["citation"].pop(k, None)
    (tmp_path / "broken_case.json").write_text(json.dumps(bad))
    with pytest.raises(bench.CaseError, match=r"broken_case\.json: citation"):
        bench.load_cases(tmp_path)


def test_bench_produces_the_figures():
    fig = bench.figures(bench.evaluate(bench.load_cases()))
    for tier in ("patient", "clinician"):
        f = fig[tier]
        assert f["n"] == len(FILES)
        assert 0 <= f["top1"] <= f["top3"] <= f["n"]
        assert 0 <= f["brier_true_diagnosis"] <= 1 and 0 <= f["brier_all_conditions"] <= 1
        assert sum(b["n"] for b in f["reliability"]) == f["pairs"]
        for b in f["reliability"]:
            if b["n"]:
                assert 0 <= b["mean_predicted"] <= 1 and 0 <= b["observed"] <= 1
        assert f["wrong_leader_above_0_9"] >= 0
        mnm = f["must_not_miss"]
        assert mnm["n"] >= 1 and 0 <= mnm["in_top3"] <= mnm["n"]
        assert mnm["alert_level_met"] + mnm["under_triaged"] + mnm["over_triaged"] == mnm["with_expected_alert"]
        assert len(f["cases"]) == f["n"] and not any(isinstance(x["probability"], float) and math.isnan(x["probability"]) for x in f["cases"])


def test_bench_script_runs():
    out = subprocess.run([sys.executable, str(BENCH), "--verbose"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    for needle in ("== patient tier ==", "== clinician tier ==", "top-1:", "top-3:", "Brier", "reliability",
                   "wrong leader shown above 0.9", "must-not-miss", "leader"):
        assert needle in out.stdout
    js = subprocess.run([sys.executable, str(BENCH), "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert js.returncode == 0, js.stderr
    assert set(json.loads(js.stdout)) == {"patient", "clinician"}
