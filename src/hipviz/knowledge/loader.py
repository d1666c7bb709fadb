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
from hipviz.knowledge.schema import Condition, ReferralPattern, SelfCareLibrary
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


@cache
def self_care_library() -> SelfCareLibrary:
    """knowledge/self_care.yaml, validated: shared advice, medicine-safety and physiotherapy notes."""
    res = resources.files("hipviz.knowledge").joinpath("self_care.yaml")
    if not res.is_file():
        raise KnowledgeError("missing knowledge/self_care.yaml")
    try:
        return SelfCareLibrary.model_validate(yaml.safe_load(res.read_text("utf-8")))
    except (ValidationError, yaml.YAMLError) as e:
        raise KnowledgeError(f"knowledge/self_care.yaml: {e}") from None


def is_root_structure(base_id: str) -> bool:
    """A spinal nerve root, or the bundle of roots in the canal (the cauda equina)."""
    return base_id.startswith("nerve_root_") or base_id == "cauda_equina"


def check_path_kind(c: Condition) -> None:
    """The path is drawn the way its kind works (DESIGN.md section 5): only a radicular path runs
    through a nerve root; a radicular path does, wherever the atlas has a root for its segments
    (the L1 root is not in the atlas: its path then lights the vertebrae of its foramen)."""
    cat = catalog().structures
    rp = c.referral_path
    where = f"conditions/{c.id}.yaml"
    roots = [s for s in rp.steps if is_root_structure(s)]
    kind = rp.path_kind
    if kind != "radicular":
        if roots:
            raise KnowledgeError(f"{where}: a {kind} path must not pass through a nerve root ({', '.join(roots)}); "
                                 "only radicular pain travels root -> nerve -> dermatome")
        return
    segs = set(rp.segments)
    drawn = {sid for sid, s in cat.items() if is_root_structure(sid) and segs & set(s.segments)}
    if drawn and not any(r in drawn for r in roots):
        raise KnowledgeError(f"{where}: a radicular path must pass through its nerve root (one of {sorted(drawn)})")
    if not drawn and not any(s.startswith("vertebra_") for s in rp.steps):
        raise KnowledgeError(f"{where}: no atlas root carries {sorted(segs)}; light the vertebrae of its foramen")


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
    check_path_kind(c)
    lib = self_care_library()
    for a in c.self_care:
        if a.use is None:
            continue
        shared = lib.entries.get(a.use)
        if shared is None:
            raise KnowledgeError(f"{where}: self_care uses {a.use!r}, not in knowledge/self_care.yaml; "
                                 f"known: {', '.join(sorted(lib.entries))}")
        if shared.topic != a.topic:
            raise KnowledgeError(f"{where}: self_care {a.topic} uses {a.use!r}, which is about {shared.topic}")


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
    try:
        lib = self_care_library()
        print(f"ok    self_care.yaml: {len(lib.entries)} shared entries, {len(lib.references)} refs")
    except KnowledgeError as e:
        errors += 1
        print(f"FAIL  {e}")
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
