"""Triage by clinical rules: which warning signs, alone or together, call for help and how fast.

The rules are data (``knowledge/triage.yaml``, with the guidance they follow): each row says
which answers must be present and sets a level, ``emergency`` (now), ``urgent`` (today) or
``soon`` (within a week or two). The ranking's likelihood ratios play no part in it.

``risk_factors`` (age over 50, smoking, alcohol, steroid tablets, ...) never make an emergency or
urgent alert on their own; a rule made only of risk factors may at most say "soon". They are
reported separately, as worth telling a clinician (see ``hipviz.ddx``).

``evaluate(painmap)`` returns the alerts, most urgent first. ``rules()`` loads and checks the
file once: an id that is not in vocabulary.yaml, an unknown level or condition, or a rule made
only of risk factors above "soon" stops the load with a `TriageError` naming the rule and the
id. ``missing_rules()`` lists the warning signs (red flags that are not risk factors) without a
rule that fires on them alone; the test suite requires it to be empty, and at run time such a
sign still gets a generic "soon" alert, so no ticked warning sign is ever silent.

`python -m hipviz.triage` checks the file and prints the table.
Pure Python (no UI imports).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hipviz.vocabulary import vocabulary

__all__ = [
    "LEVELS",
    "Alert",
    "Rule",
    "Rules",
    "TriageError",
    "evaluate",
    "level_rank",
    "load_rules",
    "missing_rules",
    "present_ids",
    "rules",
]

#: Levels, most urgent first.
LEVELS = ("emergency", "urgent", "soon")
_RANK = {lv: i for i, lv in enumerate(LEVELS)}


def level_rank(level: str) -> int:
    """0 for emergency, 1 for urgent, 2 for soon (smaller is more urgent)."""
    return _RANK[level]


class TriageError(ValueError):
    """triage.yaml is invalid; the message names the rule and the offending id or field."""


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    painted_any: tuple[str, ...]
    rule_out: tuple[str, ...]
    promote: tuple[str, ...]
    says: str
    references: tuple[str, ...]

    @property
    def standalone(self) -> tuple[str, ...]:
        """The ids that make this rule fire on their own (a rule with only `any`)."""
        return self.any if not self.all and not self.painted_any else ()

    def matches(self, present: frozenset[str], painted: frozenset[str]) -> tuple[str, ...] | None:
        """The signs behind the rule when it fires on these answers, else None."""
        if not all(i in present for i in self.all):
            return None
        hit = tuple(i for i in self.any if i in present)
        if self.any and not hit:
            return None
        if self.painted_any and not any(r in painted for r in self.painted_any):
            return None
        return self.all + tuple(i for i in hit if i not in self.all)


@dataclass(frozen=True)
class Alert:
    """One alert: its level, the warning signs behind it, the conditions to rule out, the words."""

    level: str  # emergency | urgent | soon
    warning_signs: tuple[str, ...]
    rule_out: tuple[str, ...]  # condition ids, most specific first
    message: str
    title: str
    rule: str  # the triage.yaml rule id ("" for the generic fallback)
    # the conditions the ranking lists first: an emergency rule's `promote`, an urgent rule's own
    # `rule_out`; never those of a less urgent rule merged into it (its level did not ask for that)
    promote: tuple[str, ...] = ()

    @property
    def red_flags(self) -> tuple[str, ...]:
        """The warning signs (the name used before triage rules existed)."""
        return self.warning_signs

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "title": self.title,
            "warning_signs": list(self.warning_signs),
            "rule_out": list(self.rule_out),
            "message": self.message,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Rules:
    levels: dict[str, dict[str, str]]  # level -> {title, action}
    risk_factors: tuple[str, ...]
    rules: tuple[Rule, ...]
    references: tuple[dict[str, Any], ...]
    general_warning_signs: tuple[str, ...] = ()  # listed on every condition card

    @property
    def warning_signs(self) -> tuple[str, ...]:
        """Red flags of the vocabulary that are not risk factors."""
        return tuple(f for f in vocabulary().red_flags if f not in self.risk_factors)


def _ids(rule_id: str, field: str, values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
        raise TriageError(f"triage.yaml rule {rule_id!r}: {field} must be a list of ids")
    return tuple(values)


def load_rules(data: dict[str, Any]) -> Rules:
    """Check a parsed triage file against the vocabulary and build the rules."""
    v = vocabulary()
    if not isinstance(data, dict) or data.get("format") != "hipviz-triage-rules" or data.get("version") != 1:
        raise TriageError("triage.yaml: expected format hipviz-triage-rules, version 1")
    levels = data.get("levels") or {}
    if set(levels) != set(LEVELS) or not all({"title", "action"} <= set(levels[lv] or {}) for lv in LEVELS):
        raise TriageError(f"triage.yaml: levels must give a title and an action for each of {', '.join(LEVELS)}")
    risk = tuple(data.get("risk_factors") or ())
    for f in risk:
        if f not in v.red_flags:
            raise TriageError(f"triage.yaml risk_factors: unknown red flag id {f!r} (not in vocabulary.yaml red_flags)")
    general = tuple(data.get("general_warning_signs") or ())
    for f in general:
        if f not in v.red_flags or f in risk:
            raise TriageError(f"triage.yaml general_warning_signs: {f!r} is not a warning sign (a vocabulary red flag that is "
                              "not a risk factor)")
    keys = {r["key"] for r in data.get("references") or ()}
    signs = set(v.red_flags) | set(v.findings)
    out: list[Rule] = []
    seen: set[str] = set()
    for raw in data.get("rules") or ():
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid:
            raise TriageError("triage.yaml: a rule has no id")
        if rid in seen:
            raise TriageError(f"triage.yaml: rule id {rid!r} is used twice")
        seen.add(rid)
        extra = set(raw) - {"id", "level", "all", "any", "painted_any", "rule_out", "promote", "says", "references"}
        if extra:
            raise TriageError(f"triage.yaml rule {rid!r}: unknown field(s) {sorted(extra)}")
        level = raw.get("level")
        if level not in LEVELS:
            raise TriageError(f"triage.yaml rule {rid!r}: level {level!r} is not one of {', '.join(LEVELS)}")
        all_, any_ = _ids(rid, "all", raw.get("all")), _ids(rid, "any", raw.get("any"))
        if not all_ and not any_:
            raise TriageError(f"triage.yaml rule {rid!r}: give `all` or `any`")
        for i in (*all_, *any_):
            if i not in signs:
                raise TriageError(f"triage.yaml rule {rid!r}: unknown id {i!r} (not a red flag or finding in vocabulary.yaml)")
        painted = _ids(rid, "painted_any", raw.get("painted_any"))
        for r in painted:
            if r not in v.regions:
                raise TriageError(f"triage.yaml rule {rid!r}: unknown region {r!r} in painted_any")
        rule_out, promote = _ids(rid, "rule_out", raw.get("rule_out")), _ids(rid, "promote", raw.get("promote"))
        for c in (*rule_out, *promote):
            if c not in v.conditions:
                raise TriageError(f"triage.yaml rule {rid!r}: unknown condition {c!r} (not in vocabulary.yaml conditions)")
        if promote and level != "emergency":
            raise TriageError(f"triage.yaml rule {rid!r}: only emergency rules may promote conditions")
        if not set(promote) <= set(rule_out):
            raise TriageError(f"triage.yaml rule {rid!r}: promoted conditions must also be in rule_out")
        only_risk = all(i in risk for i in (*all_, *any_))
        if only_risk and level != "soon":
            raise TriageError(f"triage.yaml rule {rid!r}: a rule made only of risk factors "
                              f"({', '.join((*all_, *any_))}) may only say 'soon', not {level!r}")
        says = raw.get("says")
        if not isinstance(says, str) or len(says.strip()) < 20:
            raise TriageError(f"triage.yaml rule {rid!r}: `says` must explain the alert in plain words")
        refs = _ids(rid, "references", raw.get("references"))
        missing = [k for k in refs if k not in keys]
        if missing:
            raise TriageError(f"triage.yaml rule {rid!r}: reference key(s) {missing} not listed under references")
        out.append(Rule(rid, level, all_, any_, painted, rule_out, promote, " ".join(says.split()), refs))
    if not out:
        raise TriageError("triage.yaml: no rules")
    return Rules(levels={lv: {k: " ".join(str(levels[lv][k]).split()) for k in ("title", "action")} for lv in LEVELS},
                 risk_factors=risk, rules=tuple(out), references=tuple(data.get("references") or ()),
                 general_warning_signs=general)


@cache
def rules() -> Rules:
    """The shipped rules (knowledge/triage.yaml), loaded and checked once."""
    text = resources.files("hipviz.knowledge").joinpath("triage.yaml").read_text("utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TriageError(f"triage.yaml: {e}") from None
    return load_rules(data)


def missing_rules(r: Rules | None = None) -> list[str]:
    """Warning signs of the vocabulary with no rule that fires on them alone."""
    r = r or rules()
    covered = {i for rule in r.rules for i in rule.standalone}
    return [f for f in r.warning_signs if f not in covered]


def present_ids(red_flags: Iterable[str], findings: Iterable[str] = (), age: float | None = None) -> frozenset[str]:
    """The answers the rules look at: ticked red flags, findings found present, and
    ``age_over_50`` when the age given is 50 or more."""
    out = set(red_flags) | set(findings)
    if age is not None and age >= 50:
        out.add("age_over_50")
    return frozenset(out)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _message(r: Rules, level: str, signs: tuple[str, ...], says: str) -> str:
    v = vocabulary()
    labels = [v.red_flags.get(s) or v.findings.get(s) or s for s in signs]
    head = f"{labels[0]}." if len(labels) == 1 else f"{_join([labels[0]] + [x[0].lower() + x[1:] for x in labels[1:]])}."
    return f"{head} {says} {r.levels[level]['action']}"


def _listed_first(rule: Rule) -> tuple[str, ...]:
    """What the rule's own level asks the ranking to list first: now (emergency) or today (urgent)."""
    return {"emergency": rule.promote, "urgent": rule.rule_out}.get(rule.level, ())


def evaluate(red_flags: Iterable[str] = (), findings: Iterable[str] = (), age: float | None = None,
             painted: Iterable[str] = (), r: Rules | None = None) -> tuple[Alert, ...]:
    """The alerts for these answers, most urgent first.

    ``painted``: region ids painted with intensity above 0 (either side). Fired rules are taken
    most urgent first (then those with more signs, then in file order); one is left out when an
    alert already kept names all its warning signs (its risk factors aside). A less urgent alert
    that shares a condition to rule out with a more urgent one is merged into it (its signs are
    listed there)."""
    r = r or rules()
    present = present_ids(red_flags, findings, age)
    regions = frozenset(painted)
    fired: list[tuple[Rule, tuple[str, ...]]] = []
    for rule in r.rules:
        signs = rule.matches(present, regions)
        if signs is not None:
            fired.append((rule, signs))
    # most urgent first, then the rule with more signs, then file order; a rule is left out when
    # a rule kept before it already names all its warning signs (risk factors do not count
    # unless the rule has nothing else)
    fired.sort(key=lambda x: (level_rank(x[0].level), -len(x[1])))
    keep: list[tuple[Rule, tuple[str, ...]]] = []
    for rule, signs in fired:
        core = {s for s in signs if s not in r.risk_factors} or set(signs)
        if any(core <= set(ksigns) for _, ksigns in keep):
            continue
        keep.append((rule, signs))
    # a less urgent alert about the same conditions joins the more urgent one (its signs are
    # listed there): one message per concern, never "go now" next to "book an appointment"
    merged: list[list[Any]] = []  # [rule, signs, rule_out]
    for rule, signs in keep:
        host = next((mm for mm in merged if level_rank(mm[0].level) < level_rank(rule.level)
                     and set(mm[2]) & set(rule.rule_out)), None)
        if host is None:
            merged.append([rule, tuple(signs), tuple(rule.rule_out)])
        else:
            host[1] = host[1] + tuple(x for x in signs if x not in host[1])
            host[2] = host[2] + tuple(x for x in rule.rule_out if x not in host[2])
    # a warning sign no rule covers still alerts (a new vocabulary id before its triage row)
    shown = {s for _, signs, _ in merged for s in signs}
    generic = [f for f in vocabulary().red_flags if f in present and f not in r.risk_factors and f not in shown]
    out = [Alert(rule.level, signs, rule_out, _message(r, rule.level, signs, rule.says),
                 r.levels[rule.level]["title"], rule.id, _listed_first(rule)) for rule, signs, rule_out in merged]
    for f in generic:
        out.append(Alert("soon", (f,), (), _message(r, "soon", (f,), "This warning sign should be checked by a doctor."),
                         r.levels["soon"]["title"], ""))
    return tuple(out)


def table(r: Rules | None = None) -> str:
    """The rules as a plain-text table (one line per rule)."""
    r = r or rules()
    lines = []
    for rule in r.rules:
        cond = " + ".join(rule.all)
        if rule.any:
            cond = (cond + " + " if cond else "") + "any of (" + ", ".join(rule.any) + ")"
        if rule.painted_any:
            cond += " + pain in any of (" + ", ".join(rule.painted_any) + ")"
        lines.append(f"{rule.level:<9}  {rule.id:<40}  {cond}")
    return "\n".join(lines)


def main() -> int:
    try:
        r = rules()
    except TriageError as e:
        print(f"FAIL  {e}")
        return 1
    missing = missing_rules(r)
    print(table(r))
    print(f"\n{len(r.rules)} rules; risk factors: {', '.join(r.risk_factors)}")
    if missing:
        print(f"FAIL  warning signs without a rule of their own: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
