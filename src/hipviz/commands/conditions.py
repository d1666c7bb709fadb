"""`hipviz conditions [--json]`: the condition ids hipviz knows, with patient and clinician names."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("conditions", help="list the known condition ids with their names")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from hipviz.knowledge.loader import KnowledgeError, knowledge

    try:
        entries = knowledge()
    except KnowledgeError as e:
        print(f"hipviz conditions: the knowledge base is invalid ({e}); reinstall hipviz", file=sys.stderr)
        return 1
    rows = [
        {
            "id": cid,
            "patient": e.condition.names.patient,
            "clinician": e.condition.names.clinician,
            "urgency": e.condition.urgency,
            "category": e.condition.category,
        }
        for cid, e in entries.items()
    ]
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    id_w = max(len(r["id"]) for r in rows)
    for r in rows:
        urgent = "" if r["urgency"] == "routine" else f"  [{r['urgency']}]"
        print(f"{r['id']:<{id_w}}  {r['patient']}{urgent}")
        print(f"{'':<{id_w}}  clinician: {r['clinician']}")
    return 0
