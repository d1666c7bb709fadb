"""`hipviz export MAP.json --fhir --out bundle.json`: a pain map as a FHIR R4 Bundle.

The Bundle holds the answers as a QuestionnaireResponse (with its Questionnaire), one Observation
per painted region (pain severity, SNOMED CT body site with laterality), the pain qualities and,
unless --no-pdf, the PDF summary as a DocumentReference. The file is written atomically. Invalid
input (missing file, bad JSON, a map that fails validation, a wrong --out or --date) exits with
status 2 and one line on stderr.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from hipviz.commands import read_painmap


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a pain map for a clinical record system (FHIR R4 Bundle)",
        description="Export a pain map document as a FHIR R4 Bundle (JSON): the answers as a "
        "QuestionnaireResponse with its Questionnaire, one Observation per painted region with its "
        "pain severity (LOINC 72514-3) and SNOMED CT body site, the pain qualities, and the PDF "
        "summary. Made locally; nothing is sent anywhere.",
    )
    p.add_argument("file", metavar="MAP.json", help="pain map JSON file ('-' reads standard input)")
    p.add_argument("--fhir", action="store_true", required=True, help="write a FHIR R4 Bundle (the only export format)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.json", help="where to write the Bundle")
    p.add_argument("--no-pdf", action="store_true", help="leave out the PDF summary (faster; no 3D rendering)")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD[THH:MM:SS]",
                   help="when the answers were given (default: now)")
    p.set_defaults(run=run)


def run(args) -> int:
    from hipviz.cli import UsageError

    out: Path = args.out
    if out.suffix.lower() != ".json":
        raise UsageError(f"--out must be a .json file, not {out}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out: {out} is a directory")
    if not out.parent.exists():
        raise UsageError(f"--out: folder {out.parent} does not exist")
    when = None
    if args.date is not None:
        try:
            when = dt.datetime.fromisoformat(args.date)
        except ValueError:
            raise UsageError(f"--date must look like 2026-01-31 or 2026-01-31T09:30:00, not {args.date!r}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)

    pdf = None
    if not args.no_pdf:
        from hipviz.atlas.meshes import AtlasError, load_atlas

        try:
            atlas = load_atlas()
            labels = atlas.skin_labels()
        except AtlasError as e:
            print(f"hipviz export: the atlas is damaged ({e}); reinstall hipviz", file=sys.stderr)
            return 1
        pm = read_painmap(args.file, labels)
        from hipviz.knowledge.loader import KnowledgeError
        from hipviz.report import pdf_bytes

        try:
            pdf = pdf_bytes(pm, atlas=atlas, date=when.date() if when else None)
        except KnowledgeError as e:
            print(f"hipviz export: the knowledge base is invalid ({e}); reinstall hipviz", file=sys.stderr)
            return 1
    else:
        pm = read_painmap(args.file)

    from hipviz.fhir import FhirError, write_bundle

    try:
        write_bundle(pm, out, pdf=pdf, include_pdf=False, when=when)
    except FhirError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"--out: cannot write {out} ({e.strerror or e})") from None
    print(f"wrote {out}")
    return 0
