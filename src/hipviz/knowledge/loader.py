"""Load and cross-check the knowledge base: every condition file, its referral pattern, and ids.

`python -m hipviz.knowledge.loader` validates everything and prints one line per condition.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pydantic import ValidationError

from hipviz.atlas.catalog import catalog
from hipviz.knowledge.schema import Condition, ReferralPattern
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary


class KnowledgeError(ValueError):
    """A knowledge file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Entry:
    condition: Condition
    pattern: ReferralPattern


def _load_condition(cid: str) -> Condition:
    res = resources.files("hipviz.knowledge").joinpath("conditions", f"{cid}.yaml")
    if not res.is_file():
        raise KnowledgeError(f"missing condition file conditions/{cid}.yaml")
    try:
        c = Condition.model_validate(yaml.safe_load(res.read_text("utf-8")))
    except (ValidationError, yaml.YAMLError) as e:
        raise KnowledgeError(f"conditions/{cid}.yaml: {e}") from None
    if c.id != cid:
        raise KnowledgeError(f"conditions/{cid}.yaml declares id {c.id!r}")
    return c


def _load_pattern(cid: str) -> ReferralPattern:
    path = data_dir("pain_maps") / "patterns" / f"{cid}.json"
    if not path.is_file():
        raise KnowledgeError(f"missing referral pattern pain_maps/patterns/{cid}.json")
    try:
        p = ReferralPattern.model_validate(json.loads(path.read_text("utf-8")))
    except (ValidationError, json.JSONDecodeError) as e:
        raise KnowledgeError(f"pain_maps/patterns/{cid}.json: {e}") from None
    if p.condition != cid:
        raise KnowledgeError(f"pain_maps/patterns/{cid}.json is for {p.condition!r}")
    return p


def _cross_check(c: Condition, p: ReferralPattern) -> None:
    cat = catalog().structures
    where = f"conditions/{c.id}.yaml"
    for sid in [*c.source_structures, *c.referral_path.steps]:
        if sid not in cat:
            raise KnowledgeError(f"{where}: unknown atlas structure {sid!r}; known: {', '.join(sorted(cat))}")
    keys = {r.key for r in c.references}
    missing = sorted(set(p.references) - keys)
    if missing:
        raise KnowledgeError(f"pain_maps/patterns/{c.id}.json cites {missing}, not in {where} references")


@cache
def knowledge() -> dict[str, Entry]:
    """All conditions by id, in vocabulary order, each with its referral pattern; validated."""
    out = {}
    for cid in vocabulary().conditions:
        c, p = _load_condition(cid), _load_pattern(cid)
        _cross_check(c, p)
        out[cid] = Entry(c, p)
    return out


def main() -> int:
    errors = 0
    for cid in vocabulary().conditions:
        try:
            c, p = _load_condition(cid), _load_pattern(cid)
            _cross_check(c, p)
            print(f"ok    {cid}: {len(c.references)} refs, {len(p.regions)} regions, prior {c.prior.value}")
        except KnowledgeError as e:
            errors += 1
            print(f"FAIL  {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
