"""Subcommands of the `hipviz` command line."""

from __future__ import annotations

import sys


def read_painmap(path: str, labels=None):
    """A pain map from a file ('-' = standard input); a rejection becomes a one-line UsageError."""
    from hipviz.cli import UsageError
    from hipviz.painmap import MAX_DOCUMENT_BYTES, PainMap, PainMapError

    try:
        if path == "-":
            return PainMap.from_json(sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1), labels)
        return PainMap.from_file(path, labels)
    except PainMapError as e:
        msg = str(e)
        raise UsageError(msg if path != "-" and msg.startswith(path) else f"{path}: {msg}") from None
