"""Choose the ranking's global tempering settings on one half of the published cases and report
the other half (then swap), so that the figures on the held-out half are not flattered by the
choice. Prints figures; asserts nothing.

    python bench/split_half.py [--cases DIR] [--json]

Halves: cases are grouped by publication (first author and year, so that two patients of one
series never sit on both sides) and a group goes to half A or B by a hash of its name: a fixed
split that does not depend on the diagnoses or on the model.

Settings tried (knowledge/ranking.yaml, section ``model``):

* ``evidence_power``: the weight of every piece of evidence but the strongest for and against.
* ``lead_weight``: the weight of the strongest piece for and the strongest against; equal to
  ``evidence_power`` is uniform tempering (every piece at the same power), 1.0 lets the first
  good reason count in full.
* ``published_cap_max``: how far a group's cap may rise to the strongest published likelihood
  ratio of a cited test in it (ln 10 = never above the global cap; ln 20).
* ``group_item_share``: what an unlisted symptom of an answer group is worth for a condition that
  lists another member of the group (0 = the general "uncommon" rate).

Choice on the tuning half: the highest top-3 rate (mean of the patient and clinician tiers), then
the lower Brier score over all (case, condition) pairs, then the lower Brier score of the true
diagnosis.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cases as bc  # noqa: E402

from hipviz import ddx  # noqa: E402
from hipviz.knowledge.loader import knowledge  # noqa: E402

GRID = {
    "evidence_power": (0.35, 0.5, 0.65, 0.8, 1.0),
    "lead": ("uniform", 1.0),
    "published_cap_max": (2.3, 3.0),
    "group_item_share": (0.0, 0.3, 0.5),
}
BASELINE = {"evidence_power": 0.5, "lead": "uniform", "published_cap_max": 2.3, "group_item_share": 0.0}


def half_of(case: bc.Case) -> str:
    first = case.citation["authors"].split(",")[0].split()[0] if case.citation["authors"].strip() else case.file
    key = f"{first.lower()}-{case.citation['year']}-{case.citation.get('journal', '')[:20].lower()}"
    return "A" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "B"


def model_for(setting: dict) -> ddx.Model:
    data = copy.deepcopy(ddx.ranking_data())
    m = data["model"]
    m["evidence_power"] = setting["evidence_power"]
    m["lead_weight"] = setting["evidence_power"] if setting["lead"] == "uniform" else setting["lead"]
    m["published_cap_max"] = setting["published_cap_max"]
    m["group_item_share"] = setting["group_item_share"]
    return ddx.Model.from_entries(knowledge(), data)


def score(cases: list[bc.Case], model: ddx.Model) -> dict:
    fig = bc.figures(bc.evaluate(cases, model))
    out = {}
    for tier in bc.TIERS:
        f = fig[tier]
        out[tier] = {k: f[k] for k in ("n", "top1", "top3", "top3_rate", "brier_true_diagnosis", "brier_all_conditions",
                                       "wrong_leader_above_0_9")}
        out[tier]["must_not_miss_top3"] = f"{f['must_not_miss']['in_top3']}/{f['must_not_miss']['n']}"
        out[tier]["reliability"] = f["reliability"]
    return out


def key(res: dict) -> tuple:
    top3 = sum(res[t]["top3_rate"] for t in bc.TIERS) / len(bc.TIERS)
    brier = sum(res[t]["brier_all_conditions"] for t in bc.TIERS)
    brier_true = sum(res[t]["brier_true_diagnosis"] for t in bc.TIERS)
    return (-round(top3, 9), round(brier, 9), round(brier_true, 9))


def name(setting: dict) -> str:
    lead = "uniform" if setting["lead"] == "uniform" else f"lead {setting['lead']}"
    return (f"power {setting['evidence_power']}, {lead}, published cap ln {math.exp(setting['published_cap_max']):.0f}, "
            f"group share {setting['group_item_share']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=bc.CASES_DIR)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cases = bc.load_cases(args.cases)
    halves = {"A": [c for c in cases if half_of(c) == "A"], "B": [c for c in cases if half_of(c) == "B"]}
    settings = [dict(zip(GRID, v, strict=True)) for v in itertools.product(*GRID.values())]
    results: dict[str, dict[str, dict]] = {h: {} for h in halves}
    for st in settings:
        m = model_for(st)
        for h, cs in halves.items():
            results[h][name(st)] = score(cs, m)
    report = {"halves": {h: sorted(c.file for c in cs) for h, cs in halves.items()}, "directions": []}
    for tune, test in (("A", "B"), ("B", "A")):
        best = min(settings, key=lambda st: key(results[tune][name(st)]))
        report["directions"].append({
            "tuned_on": tune, "reported_on": test, "chosen": name(best),
            "tuning_half": results[tune][name(best)],
            "held_out_chosen": results[test][name(best)], "held_out_baseline": results[test][name(BASELINE)],
        })
    report["all_settings"] = {h: {k: {t: {x: v[t][x] for x in ("top3", "brier_all_conditions", "brier_true_diagnosis")}
                                      for t in bc.TIERS} for k, v in r.items()} for h, r in results.items()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"halves: A {len(halves['A'])} cases, B {len(halves['B'])} cases (grouped by publication)\n")
    for d in report["directions"]:
        print(f"== tuned on {d['tuned_on']}, reported on {d['reported_on']}: chosen {d['chosen']} ==")
        for label, r in (("held-out, chosen", d["held_out_chosen"]), ("held-out, baseline", d["held_out_baseline"])):
            for t in bc.TIERS:
                x = r[t]
                print(f"  {label:<19} {t:<9} n={x['n']:>2} top-1 {x['top1']:>2} top-3 {x['top3']:>2} "
                      f"({100 * x['top3_rate']:.0f}%)  must-not-miss top-3 {x['must_not_miss_top3']:>5}  "
                      f"Brier true {x['brier_true_diagnosis']:.3f}  all {x['brier_all_conditions']:.4f}  "
                      f"wrong leader >0.9: {x['wrong_leader_above_0_9']}")
        print()
    print("every setting (top-3 patient/clinician; Brier all conditions patient/clinician):")
    for h in halves:
        for k, v in report["all_settings"][h].items():
            print(f"  {h} {k:<45} top-3 {v['patient']['top3']:>2}/{v['clinician']['top3']:>2}  "
                  f"Brier {v['patient']['brier_all_conditions']:.4f}/{v['clinician']['brier_all_conditions']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
