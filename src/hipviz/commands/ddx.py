"""`hipviz ddx FILE [--json]`: rank the candidate conditions for a pain map file.

Prints red-flag alerts first, then the ranking (rank, condition, side, score, main reasons), the
questions that would best separate the leading candidates, and the educational disclaimer last.
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


def format_table(result, top: int | None = 10, width: int = 100) -> str:
    """The result as plain text: alerts, ranking table with reasons, questions, disclaimer."""
    from hipviz.ddx import _short

    lines: list[str] = []
    for a in result.alerts:
        head = "!! EMERGENCY: " if a.level == "emergency" else "!! URGENT: "
        lines += textwrap.wrap(a.message, width, initial_indent=head, subsequent_indent="   ")
    if result.alerts:
        lines.append("")
    shown = result.candidates if top is None else result.candidates[:top]
    name_w = max([len("Condition")] + [len(_short(c.name)) for c in shown])
    lines.append(f"{'#':>2}  {'Condition':<{name_w}}  {'Side':<7} {'Score':>6}")
    for i, c in enumerate(shown, 1):
        mark = " !" if c.promoted else ""
        lines.append(f"{i:>2}  {_short(c.name):<{name_w}}  {c.side or '-':<7} {100 * c.score:>5.1f}%{mark}")
        for r in c.why[:3]:
            lines += textwrap.wrap(r.text, width, initial_indent=" " * 6 + "- ", subsequent_indent=" " * 8)
    if len(shown) < len(result.candidates):
        lines.append(f"    ({len(result.candidates) - len(shown)} more below {100 * shown[-1].score:.1f}%; --top 0 shows all)")
    if result.ask_next:
        lines += ["", "Questions that would help most:"]
        for q in result.ask_next:
            lines += textwrap.wrap(q.question, width, initial_indent="  - ", subsequent_indent="    ")
    lines += [""] + textwrap.wrap(result.disclaimer, width)
    return "\n".join(lines) + "\n"
