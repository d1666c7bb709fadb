"""`hipviz import bundle.json [--out MAP.json]`: a FHIR Bundle from `hipviz export --fhir` back into
a pain map document.

Without --out the map is printed; with it the file is written atomically. A Bundle that is not one
(wrong resourceType, another FHIR version, a newer hipviz format, unknown codes, NaN, oversize,
Observations that disagree with the answers) exits with status 2 and one line on stderr naming the
problem; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="read a FHIR Bundle (from `hipviz export --fhir`) back into a pain map",
        description="Read a FHIR R4 Bundle written by `hipviz export --fhir` back into a pain map "
        "document (format hipviz-painmap). The per-vertex paint is not in the Bundle.",
    )
    p.add_argument("file", metavar="bundle.json", help="FHIR Bundle JSON file ('-' reads standard input)")
    p.add_argument("--out", type=Path, default=None, metavar="MAP.json", help="where to write the map (default: print it)")
    p.set_defaults(run=run)


def run(args) -> int:
    from hipviz.cli import UsageError
    from hipviz.fhir import MAX_BUNDLE_BYTES, FhirError, from_bundle_json, read_bundle, write_painmap

    out: Path | None = args.out
    if out is not None:
        if out.suffix.lower() != ".json":
            raise UsageError(f"--out must be a .json file, not {out}")
        if out.exists() and out.is_dir():
            raise UsageError(f"--out: {out} is a directory")
        if not out.parent.exists():
            raise UsageError(f"--out: folder {out.parent} does not exist")
    try:
        if args.file == "-":
            pm = from_bundle_json(sys.stdin.buffer.read(MAX_BUNDLE_BYTES + 1))
        else:
            pm = read_bundle(args.file)
    except FhirError as e:
        msg = str(e)
        raise UsageError(msg if msg.startswith(args.file) else f"{args.file}: {msg}") from None
    if out is None:
        sys.stdout.write(pm.to_json() + "\n")
        return 0
    try:
        write_painmap(pm, out)
    except OSError as e:
        raise UsageError(f"--out: cannot write {out} ({e.strerror or e})") from None
    print(f"wrote {out}")
    return 0
