"""Measure the ranking on published case reports (prints figures; asserts nothing).

    python bench/bench_cases.py [--cases DIR] [--verbose] [--json]

Each file in bench/cases/ is one published case report or one patient of a case series: its
citation, the final diagnosis the authors established (a hipviz condition id), and two pain maps
written from what the paper reports: ``patient`` (only what a patient could tell: painted regions,
qualities, aggravators, relievers, red flags, age, sex) and ``clinician`` (the same plus the
examination findings the authors report). See bench/cases/README.md for how they were encoded.

A case that does not validate stops the run with a message naming the file and the field.

For each tier the script prints:

* n, top-1 and top-3 accuracy. Ranks are positions in the list the user sees (emergency
  promotions first, then by probability). A hit is the diagnosis itself or a member of its family
  in ddx's family data (ranking.yaml ``families``: gluteal tendinopathy, gluteal tendon tear and
  trochanteric bursitis are one problem, lateral hip pain, so a case of bursitis counts as found
  when any of the three is at that rank).
* Brier scores. "True diagnosis": mean (1 - p)^2 of the probability shown for the diagnosis (the
  family probability when it belongs to a family). "All conditions": mean (p - y)^2 over every
  (case, condition) pair, families collapsed into one entry carrying the family probability, y = 1
  for the true diagnosis (or its family) and 0 for the others; conditions each carry their own
  probability (they may coexist), so each pair is a separate yes/no forecast.
* A reliability table over the same pairs: probability bins, mean predicted probability,
  observed frequency, count.
* The number of cases whose leader (first candidate shown) is wrong and shown above 0.9.
* Must-not-miss cases: whether the diagnosis is in the top 3 and, where the case names an
  ``expected_alert`` (the level triage.yaml's rules give for the warning signs the paper reports),
  whether the most urgent alert raised has that level (under- and over-triage counted apart).
* Cases whose only red flags are risk factors that nevertheless raise an urgent or emergency alert.

--verbose adds a per-case table (file, diagnosis, rank, probability, leader, leader probability).
--json prints the same figures as one JSON object instead of text.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hipviz import ddx, triage
from hipviz.painmap import PainMap, PainMapError
from hipviz.vocabulary import vocabulary

CASES_DIR = Path(__file__).resolve().parent / "cases"
TIERS = ("patient", "clinician")
LEVELS = ("emergency", "urgent", "soon")
#: Conditions a clinician must not miss: the emergencies and the serious mimics of issue 8.
MUST_NOT_MISS = frozenset({
    "cauda_equina_syndrome", "abdominal_aortic_aneurysm", "spinal_malignancy_or_infection", "hip_fracture",
    "septic_arthritis_hip", "sacral_insufficiency_fracture", "femoral_neck_stress_fracture",
    "vascular_claudication", "lumbar_spinal_stenosis", "axial_spondyloarthritis",
})
BIN_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001)
CITATION_IDS = ("pmid", "doi", "pmcid")
CASE_KEYS = {"citation", "diagnosis", "notes", "encoding", "expected_alert", "patient", "clinician"}
REQUIRED_KEYS = ("citation", "diagnosis", "notes", "patient", "clinician")
EXAM_KEYS = ("findings", "negative_findings")


class CaseError(ValueError):
    """A case file that does not validate; the message names the file and the field."""


@dataclass(frozen=True)
class Case:
    file: str
    diagnosis: str
    citation: dict[str, Any]
    notes: str
    expected_alert: dict[str, str | None]  # tier -> expected level (or None)
    maps: dict[str, PainMap]


# -- loading ----------------------------------------------------------------------------------------


def _fail(path: Path, field_: str, msg: str) -> CaseError:
    return CaseError(f"{path.name}: {field_}: {msg}")


def load_case(path: Path) -> Case:
    """Read and validate one case file (raises CaseError naming the file and the field)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CaseError(f"{path.name}: cannot read ({e})") from None
    except json.JSONDecodeError as e:
        raise CaseError(f"{path.name}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise _fail(path, "document", "must be a JSON object")
    for k in REQUIRED_KEYS:
        if k not in data:
            raise _fail(path, k, "is required")
    extra = sorted(set(data) - CASE_KEYS)
    if extra:
        raise _fail(path, extra[0], f"unknown field; allowed: {', '.join(sorted(CASE_KEYS))}")

    cit = data["citation"]
    if not isinstance(cit, dict):
        raise _fail(path, "citation", "must be an object")
    for k in ("authors", "title", "journal"):
        if not isinstance(cit.get(k), str) or not cit[k].strip():
            raise _fail(path, f"citation.{k}", "is required (non-empty text)")
    if not isinstance(cit.get("year"), int) or not 1900 <= cit["year"] <= 2100:
        raise _fail(path, "citation.year", "is required (a year as a whole number)")
    if not any(isinstance(cit.get(k), str) and cit[k].strip() for k in CITATION_IDS):
        raise _fail(path, "citation", f"needs at least one of {', '.join(CITATION_IDS)}")
    if "pmid" in cit and not (isinstance(cit["pmid"], str) and cit["pmid"].isdigit()):
        raise _fail(path, "citation.pmid", "must be digits (as text)")
    if "pmcid" in cit and not (isinstance(cit["pmcid"], str) and cit["pmcid"].startswith("PMC") and cit["pmcid"][3:].isdigit()):
        raise _fail(path, "citation.pmcid", "must look like PMC1234567")
    if "doi" in cit and not (isinstance(cit["doi"], str) and cit["doi"].startswith("10.") and "/" in cit["doi"]):
        raise _fail(path, "citation.doi", "must look like 10.xxxx/yyyy")

    conditions = set(vocabulary().conditions)
    diag = data["diagnosis"]
    if diag not in conditions:
        raise _fail(path, "diagnosis", f"{diag!r} is not a known condition id")
    if not isinstance(data["notes"], str) or not data["notes"].strip():
        raise _fail(path, "notes", "is required (non-empty text)")

    maps: dict[str, PainMap] = {}
    for tier in TIERS:
        doc = data[tier]
        if not isinstance(doc, dict):
            raise _fail(path, tier, "must be a pain map object")
        if tier == "patient":
            for k in EXAM_KEYS:
                if doc.get(k):
                    raise _fail(path, f"patient.{k}", "a patient cannot report examination findings; put them in the clinician tier")
        try:
            maps[tier] = PainMap.from_dict(doc)
        except PainMapError as e:
            raise CaseError(f"{path.name}: {tier}.{e}") from None

    expected: dict[str, str | None] = {t: None for t in TIERS}
    ea = data.get("expected_alert")
    if ea is not None:
        if isinstance(ea, str):
            ea = {t: ea for t in TIERS}
        if not isinstance(ea, dict) or set(ea) - set(TIERS):
            raise _fail(path, "expected_alert", f"must be a level or an object with keys {', '.join(TIERS)}")
        for t, lvl in ea.items():
            if lvl is not None and lvl not in LEVELS:
                raise _fail(path, f"expected_alert.{t}", f"{lvl!r} is not a level; allowed: {', '.join(LEVELS)}")
            expected[t] = lvl
    return Case(path.name, diag, cit, data["notes"], expected, maps)


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise CaseError(f"{directory}: no case files (*.json)")
    return [load_case(p) for p in files]


# -- evaluation -------------------------------------------------------------------------------------


@dataclass
class Row:
    file: str
    diagnosis: str
    rank: int | None  # 1-based position of the diagnosis (or a family member) in the list shown
    probability: float  # probability shown for the diagnosis (family probability for family members)
    leader: str
    leader_probability: float
    leader_correct: bool
    alert: str | None  # most urgent alert raised
    expected_alert: str | None
    risk_factor_only: bool


@dataclass
class TierResult:
    tier: str
    rows: list[Row] = field(default_factory=list)
    pairs: list[tuple[float, int]] = field(default_factory=list)  # (p, y) per collapsed condition


def _family_view(m: ddx.Model) -> tuple[dict[str, str], dict[str, str]]:
    """condition -> the id that carries its family's probability (its umbrella), and
    condition -> family id (or itself)."""
    carrier, group = {}, {}
    for i, cid in enumerate(m.ids):
        fid = m.family_of[i]
        carrier[cid] = m.ids[int(m.umbrella[i])]
        group[cid] = fid or cid
    return carrier, group


def evaluate(cases: list[Case], model_: ddx.Model | None = None) -> dict[str, TierResult]:
    m = model_ if model_ is not None else ddx.model()
    carrier, group = _family_view(m)
    risk_factors = set(triage.rules().risk_factors)
    out = {t: TierResult(t) for t in TIERS}
    for case in cases:
        true_group = group[case.diagnosis]
        for tier in TIERS:
            pm = case.maps[tier]
            res = ddx.rank(pm, m)
            cands = res.candidates
            by_id = {c.condition: c for c in cands}
            rank = next((i + 1 for i, c in enumerate(cands) if group[c.condition] == true_group), None)
            p_true = by_id[carrier[case.diagnosis]].probability
            lead = cands[0]
            lead_ok = group[lead.condition] == true_group
            levels = [a.level for a in res.alerts]
            alert = min(levels, key=LEVELS.index) if levels else None
            rf_only = bool(pm.red_flags) and set(pm.red_flags) <= risk_factors and not pm.findings
            out[tier].rows.append(Row(case.file, case.diagnosis, rank, p_true, lead.condition, lead.probability, lead_ok,
                                      alert, case.expected_alert[tier], rf_only))
            for cid, c in by_id.items():
                if carrier[cid] != cid:
                    continue  # a sub-type: its family's probability is counted once, on the umbrella
                out[tier].pairs.append((c.probability, int(group[cid] == true_group)))
    return out


def _reliability(pairs: list[tuple[float, int]]) -> list[dict[str, Any]]:
    table = []
    for lo, hi in zip(BIN_EDGES[:-1], BIN_EDGES[1:]):
        sel = [(p, y) for p, y in pairs if lo <= p < hi]
        if not sel:
            table.append({"bin": f"{lo:.2f}-{min(hi, 1.0):.2f}", "n": 0, "mean_predicted": None, "observed": None})
            continue
        table.append({"bin": f"{lo:.2f}-{min(hi, 1.0):.2f}", "n": len(sel),
                      "mean_predicted": sum(p for p, _ in sel) / len(sel), "observed": sum(y for _, y in sel) / len(sel)})
    return table


def figures(results: dict[str, TierResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tier, r in results.items():
        n = len(r.rows)
        top1 = sum(1 for x in r.rows if x.rank == 1)
        top3 = sum(1 for x in r.rows if x.rank is not None and x.rank <= 3)
        mnm = [x for x in r.rows if x.diagnosis in MUST_NOT_MISS]
        with_alert = [x for x in mnm if x.expected_alert]
        def lvl(a):  # smaller is more urgent; no alert is least urgent
            return LEVELS.index(a) if a else len(LEVELS)
        out[tier] = {
            "n": n,
            "top1": top1, "top1_rate": top1 / n if n else math.nan,
            "top3": top3, "top3_rate": top3 / n if n else math.nan,
            "brier_true_diagnosis": sum((1 - x.probability) ** 2 for x in r.rows) / n if n else math.nan,
            "brier_all_conditions": sum((p - y) ** 2 for p, y in r.pairs) / len(r.pairs) if r.pairs else math.nan,
            "pairs": len(r.pairs),
            "reliability": _reliability(r.pairs),
            "wrong_leader_above_0_9": sum(1 for x in r.rows if not x.leader_correct and x.leader_probability > 0.9),
            "must_not_miss": {
                "n": len(mnm),
                "in_top3": sum(1 for x in mnm if x.rank is not None and x.rank <= 3),
                "with_expected_alert": len(with_alert),
                "alert_level_met": sum(1 for x in with_alert if x.alert == x.expected_alert),
                "under_triaged": sum(1 for x in with_alert if lvl(x.alert) > lvl(x.expected_alert)),
                "over_triaged": sum(1 for x in with_alert if lvl(x.alert) < lvl(x.expected_alert)),
                "missed_files": sorted(x.file for x in mnm if x.rank is None or x.rank > 3),
                "alert_mismatch_files": sorted(f"{x.file} ({x.alert or 'none'} vs {x.expected_alert})"
                                               for x in with_alert if x.alert != x.expected_alert),
            },
            "risk_factor_only_urgent_or_emergency": sum(1 for x in r.rows if x.risk_factor_only and x.alert in ("emergency", "urgent")),
            "cases": [x.__dict__ for x in r.rows],
        }
    return out


# -- printing ---------------------------------------------------------------------------------------


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"


def print_text(fig: dict[str, Any], verbose: bool) -> None:
    for tier in TIERS:
        f = fig[tier]
        n = f["n"]
        mnm = f["must_not_miss"]
        print(f"== {tier} tier ==")
        print(f"n = {n}")
        print(f"top-1: {_pct(f['top1'], n)}   top-3: {_pct(f['top3'], n)}   (a family member counts as a hit)")
        print(f"Brier, true diagnosis: {f['brier_true_diagnosis']:.3f}   Brier, all conditions "
              f"({f['pairs']} case x condition pairs, families collapsed): {f['brier_all_conditions']:.4f}")
        print(f"wrong leader shown above 0.9: {f['wrong_leader_above_0_9']}")
        print(f"must-not-miss: {mnm['n']} cases, diagnosis in top 3: {_pct(mnm['in_top3'], mnm['n'])}; "
              f"expected alert level raised: {_pct(mnm['alert_level_met'], mnm['with_expected_alert'])} "
              f"(under-triaged {mnm['under_triaged']}, over-triaged {mnm['over_triaged']})")
        if mnm["missed_files"]:
            print("  not in top 3: " + ", ".join(mnm["missed_files"]))
        if mnm["alert_mismatch_files"]:
            print("  alert level differs: " + ", ".join(mnm["alert_mismatch_files"]))
        print(f"risk factors only, yet an urgent or emergency alert: {f['risk_factor_only_urgent_or_emergency']}")
        print("reliability (all case x condition pairs):")
        print(f"  {'bin':<11} {'n':>5} {'mean predicted':>15} {'observed':>9}")
        for b in f["reliability"]:
            if b["n"]:
                print(f"  {b['bin']:<11} {b['n']:>5} {b['mean_predicted']:>15.3f} {b['observed']:>9.3f}")
            else:
                print(f"  {b['bin']:<11} {0:>5} {'-':>15} {'-':>9}")
        if verbose:
            print(f"  {'file':<60} {'diagnosis':<32} {'rank':>4} {'p':>6}  {'leader':<32} {'p':>6}  alert")
            for x in f["cases"]:
                rank = x["rank"] if x["rank"] is not None else "-"
                print(f"  {x['file']:<60} {x['diagnosis']:<32} {rank:>4} {x['probability']:>6.3f}  "
                      f"{x['leader']:<32} {x['leader_probability']:>6.3f}  {x['alert'] or '-'}"
                      + (f" (expected {x['expected_alert']})" if x["expected_alert"] else ""))
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=CASES_DIR, help="directory of case files (default: bench/cases)")
    ap.add_argument("--verbose", action="store_true", help="add the per-case table")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    try:
        cases = load_cases(args.cases)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    fig = figures(evaluate(cases))
    if args.json:
        print(json.dumps(fig, indent=2))
    else:
        print(f"{len(cases)} published cases from {args.cases}\n")
        print_text(fig, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
