"""`hipviz report MAP.json --out summary.pdf`: a one-page PDF summary of a pain map, made locally.

Invalid input (missing file, bad JSON, a document that fails validation, paint made on another
skin, a wrong --out or --date) exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from hipviz.commands import read_painmap


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write a one-page PDF summary of a pain map (educational, not a diagnosis)",
        description="Write a one-page A4 PDF summary of a pain map document: images of the map, "
        "the answers, the ranked candidates and any alert. Made locally; nothing is sent anywhere.",
    )
    p.add_argument("file", metavar="MAP.json", help="pain map JSON file ('-' reads standard input)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.pdf", help="where to write the PDF")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="date printed on the page (default: today)")
    p.add_argument("--previous", default=None, metavar="OLD.json",
                   help="an earlier map of the same person: adds a 'Since last time' section")
    p.add_argument("--previous-date", default=None, metavar="YYYY-MM-DD", help="date of the earlier map, printed with it")
    p.set_defaults(run=run)


def run(args) -> int:
    from hipviz.cli import UsageError

    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"--out must be a .pdf file, not {out}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out: {out} is a directory")
    if not out.parent.exists():
        raise UsageError(f"--out: folder {out.parent} does not exist")
    date = None
    if args.date is not None:
        try:
            date = dt.date.fromisoformat(args.date)
        except ValueError:
            raise UsageError(f"--date must look like 2026-01-31, not {args.date!r}") from None
    previous_date = None
    if args.previous_date is not None:
        if args.previous is None:
            raise UsageError("--previous-date needs --previous")
        try:
            previous_date = dt.date.fromisoformat(args.previous_date)
        except ValueError:
            raise UsageError(f"--previous-date must look like 2026-01-31, not {args.previous_date!r}") from None

    from hipviz.atlas.meshes import AtlasError, load_atlas
    from hipviz.knowledge.loader import KnowledgeError

    try:
        atlas = load_atlas()
        labels = atlas.skin_labels()
    except AtlasError as e:
        print(f"hipviz report: the atlas is damaged ({e}); reinstall hipviz", file=sys.stderr)
        return 1
    pm = read_painmap(args.file, labels)
    previous = read_painmap(args.previous, labels) if args.previous is not None else None

    from hipviz.report import build_pdf

    try:
        build_pdf(pm, out, atlas=atlas, date=date, previous=previous, previous_date=previous_date)
    except KnowledgeError as e:
        print(f"hipviz report: the knowledge base is invalid ({e}); reinstall hipviz", file=sys.stderr)
        return 1
    except OSError as e:
        raise UsageError(f"--out: cannot write {out} ({e.strerror or e})") from None
    print(f"wrote {out}")
    return 0
