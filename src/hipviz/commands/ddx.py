"""`hipviz ddx FILE [--json]`: rank the candidate conditions for a pain map file.

Prints the alerts first (emergency, urgent or soon, from the triage rules), then the ranking
(rank, condition, side, band, probability, where the pain comes from, main reasons), the chance of
"something else", the risk factors worth telling a clinician, the questions that would best
separate the leading candidates, and the educational disclaimer last. ``--json`` prints the
contract of DESIGN.md section 4.
Invalid input (missing file, bad JSON, a document that fails validation) exits with status 2 and
one line on stderr.
"""

from __future__ import annotations

import json
import sys
import textwrap

from hipviz.commands import read_painmap


def register(sub) -> None:
    p = sub.add_parser(
        "ddx",
        help="rank candidate conditions for a pain map file (educational, not a diagnosis)",
        description="Rank the candidate conditions for a pain map document (format hipviz-painmap). "
        "Educational information, not a diagnosis.",
    )
    p.add_argument("file", metavar="FILE", help="pain map JSON file ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--top", type=int, default=10, metavar="N", help="candidates shown in the table (default 10; 0 = all)")
    p.set_defaults(run=run)


def run(args) -> int:
    from hipviz.cli import UsageError

    if args.top < 0:
        raise UsageError(f"--top: {args.top} is negative; allowed: 0 (all) or more")
    pm = read_painmap(args.file)

    from hipviz import ddx
    from hipviz.knowledge.loader import KnowledgeError

    try:
        result = ddx.rank(pm)
    except KnowledgeError as e:
        print(f"hipviz ddx: the knowledge base is invalid ({e}); reinstall hipviz", file=sys.stderr)
        return 1
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(format_table(result, args.top or None))
    return 0


SOURCE_LABELS = {
    "joint": "joint", "spine": "spine", "muscle_tendon": "muscle/tendon", "nerve": "nerve", "bone": "bone",
    "vascular": "blood vessel", "other": "other",
}
ALERT_HEADS = {"emergency": "!! ", "urgent": "!! ", "soon": "!  "}


def format_table(result, top: int | None = 10, width: int = 100) -> str:
    """The result as plain text: alerts, ranking table with reasons, something else, risk factors
    worth telling a clinician, questions, disclaimer."""
    from hipviz.ddx import _short

    lines: list[str] = []
    for a in result.alerts:
        lines += textwrap.wrap(f"{a.title}. {a.message}", width, initial_indent=ALERT_HEADS[a.level], subsequent_indent="   ")
    if result.alerts:
        lines.append("")
    shown = result.candidates if top is None else result.candidates[:top]
    name_w = max([len("Condition")] + [len(_short(c.name)) + (2 if c.subtype_of else 0) for c in shown])
    lines.append(f"{'#':>2}  {'Condition':<{name_w}}  {'Side':<7} {'Match':<15} {'Prob':>5}  Source")
    for i, c in enumerate(shown, 1):
        mark = " !" if c.promoted else ""
        name = ("- " if c.subtype_of else "") + _short(c.name)
        lines.append(f"{i:>2}  {name:<{name_w}}  {c.side or '-':<7} {c.band_label:<15} {100 * c.probability:>4.0f}%  "
                     f"{SOURCE_LABELS.get(c.source_kind, c.source_kind)}{mark}")
        for r in c.why[:3]:
            lines += textwrap.wrap(r.text, width, initial_indent=" " * 6 + "- ", subsequent_indent=" " * 8)
    if len(shown) < len(result.candidates):
        lines.append(f"    ({len(result.candidates) - len(shown)} more below {100 * shown[-1].probability:.0f}%; --top 0 shows all)")
    lines.append(f"    Something else (none of the conditions above): {100 * result.something_else:.0f}%")
    lines += textwrap.wrap("Each probability is that condition's own: conditions can coexist, so they need not add up "
                           "to 100%. A test's accuracy is called published only where a cited study measured it; every other "
                           "figure is an estimate.", width, initial_indent="    ",
                           subsequent_indent="    ")
    if result.worth_telling:
        lines += ["", "Worth telling your clinician (risk factors, not on their own a reason to seek care now):"]
        for w in result.worth_telling:
            lines += textwrap.wrap(w.label, width, initial_indent="  - ", subsequent_indent="    ")
    if result.ask_next:
        lines += ["", "Questions that would help most:"]
        for q in result.ask_next:
            lines += textwrap.wrap(q.question, width, initial_indent="  - ", subsequent_indent="    ")
    lines += [""] + textwrap.wrap(result.disclaimer, width)
    return "\n".join(lines) + "\n"
