"""Policies: thresholds a run must meet to be recorded as an erasure, and the verdict.

Which thresholds exist, and which way each one bounds its metric, comes from the metric
declarations (forgetctl.evaluation.metrics). A check whose value could not be measured (no
conclusive judge grade, say) fails: evidence that was not measured is never treated as good.
With `inconclusive_fails`, any inconclusive grade fails the run outright.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path

from forgetctl.errors import InputError, unknown_name
from forgetctl.evaluation.metrics import COLLATERAL_CHECK, INCONCLUSIVE, OPTIONAL_SCOPES, Metric, by_check
from forgetctl.evaluation.results import Coverage, Evaluation


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    thresholds: dict[str, float]
    inconclusive_fails: bool
    attacks: dict[str, float] = field(default_factory=dict)  # attack name -> the most leak it may bring back
    collateral_required: bool = False  # fail a run that re-asked no bystanders (nobody besides the erased)


@dataclass(frozen=True)
class Check:
    name: str
    measured: float | None
    threshold: float
    comparison: str
    passed: bool
    note: str = ""

    @property
    def unmeasured(self) -> bool:
        """Passed with nothing to measure (no canary, no earlier person): shown as n/a, not pass."""
        return self.measured is None and self.passed


@dataclass(frozen=True)
class Verdict:
    """Every check with its measured value (worst person and split) and threshold, and what the
    checks cannot say (notes). It passes only if every check does."""

    policy: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def record(self) -> dict:
        return {"policy": self.policy, "passed": self.passed, "checks": [asdict(c) for c in self.checks],
                "notes": list(self.notes)}


def builtin_policies() -> list[str]:
    return sorted(p.name[:-5] for p in files("forgetctl_policies").iterdir() if p.name.endswith(".toml"))


def load_policy(name_or_file: str) -> Policy:
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise InputError(f"policy file {path} does not exist")
        text, name = path.read_text(), path.stem
    elif name_or_file in builtin_policies():
        text, name = (files("forgetctl_policies") / f"{name_or_file}.toml").read_text(), name_or_file
    else:
        raise unknown_name("policy", name_or_file, builtin_policies() + ["a .toml file"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"policy {name_or_file}: invalid TOML ({exc})") from None
    return policy_from(data, name, f"policy {name_or_file}: ")


# The shape of a policy file: its sections, and the keys each holds with their types. Anything
# else is refused: a misspelt section would otherwise bound nothing, and every run would pass.
SHAPE = {"description": str, "thresholds": dict, "attacks": dict,
         "judge": {"inconclusive_fails": bool}, "collateral": {"required": bool}}


def policy_from(data: dict, name: str, where: str) -> Policy:
    """The one place a policy's TOML is checked: every section and key known, every value typed."""
    for key, value in data.items():
        kind = SHAPE.get(key)
        if kind is None:
            raise unknown_name("policy section", key, SHAPE, where=where)
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                raise InputError(f"{where}[{key}] must be a table")
            for inner, inner_value in value.items():
                if inner not in kind:
                    raise unknown_name(f"[{key}] key", inner, kind, where=where)
                if not isinstance(inner_value, kind[inner]):
                    raise InputError(f"{where}[{key}] {inner} must be true or false")
        elif not isinstance(value, kind):
            raise InputError(f"{where}{key} must be {'text' if kind is str else 'a table'}")
    thresholds, attacks = data.get("thresholds", {}), data.get("attacks", {})
    unknown = sorted(set(thresholds) - set(by_check()))
    if unknown:
        raise unknown_name("threshold", unknown[0], by_check(), where=where)
    if not all(is_number(v) for v in thresholds.values()):
        raise InputError(f"{where}thresholds must be numbers")
    if not all(is_number(v) and 0 <= v <= 1 for v in attacks.values()):
        raise InputError(f"{where}[attacks] thresholds are leak rates between 0 and 1")
    return Policy(
        name=name, description=data.get("description", ""), thresholds=dict(thresholds),
        inconclusive_fails=data.get("judge", {}).get("inconclusive_fails", True), attacks=dict(attacks),
        collateral_required=data.get("collateral", {}).get("required", False),
    )


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def measured_values(metric: Metric, evaluation: Evaluation) -> list:
    """The metric's value in every place it was measured: each person's split, the retain set,
    each person an earlier release erased (their photos, their erasure's retain people), or each
    of the lineage's canaries."""
    if metric.scope == "retain":
        return [evaluation.retain.get(metric.key)]
    if metric.scope == "canaries":
        return [m.get(metric.key) for m in evaluation.bystanders.values()]
    if metric.scope in OPTIONAL_SCOPES:
        wanted = ("retain",) if metric.scope == "earlier retain" else ("seen", "unseen")
        return [splits[s].get(metric.key) for splits in evaluation.earlier.values() for s in wanted if s in splits]
    return [m.get(metric.key) for person in evaluation.forget.values() for m in person.values()]


def check(metric: Metric, threshold: float, evaluation: Evaluation) -> Check:
    values = measured_values(metric, evaluation)
    if not values and metric.scope in OPTIONAL_SCOPES:
        return Check(metric.check, None, threshold, metric.comparison, True, OPTIONAL_SCOPES[metric.scope])
    if not values or any(v is None for v in values):
        return Check(metric.check, None, threshold, metric.comparison, False, "not measured (no conclusive grade?)")
    value = metric.worst(values)
    return Check(metric.check, value, threshold, metric.comparison, metric.passes(value, threshold))


NOT_MEASURED = ("collateral forgetting not measured: nobody besides the erased people was re-asked "
                "(pass --retain DIR, or register canaries: forgetctl canaries add)")


def inconclusive_count(evaluation: Evaluation) -> int:
    places = measured_values(INCONCLUSIVE, evaluation) + [evaluation.retain.get(INCONCLUSIVE.key)]
    return sum(v or 0 for v in places)


def deferred_note(coverage: Coverage) -> str:
    d, n, k = len(coverage.deferred), coverage.earlier, coverage.every
    return (f"{d} of the {n} people erased before were not re-probed by this release (--reprobe-every {k}: each is "
            f"re-probed at least once in every {k} releases); had one of them come back, this release would miss it "
            f"with chance {d}/{n}. `forgetctl verify --model` re-probes them all")


def verdict(policy: Policy, evaluation: Evaluation) -> Verdict:
    checks = [check(by_check()[name], threshold, evaluation) for name, threshold in policy.thresholds.items()]
    if policy.inconclusive_fails:
        count = inconclusive_count(evaluation)
        checks.append(Check(INCONCLUSIVE.check, count, 0, "<=", count == 0, INCONCLUSIVE.meaning))
    # Earlier erasures whose evidence is gone cannot be re-probed: said, never counted as verified.
    notes = [f"{request} cannot be re-probed: {why} (not counted as verified)"
             for request, why in evaluation.earlier_unverifiable.items()]
    notes += [f"site metric {key} was not measured: {why}" for key, why in evaluation.site_failures.items()]
    if evaluation.coverage.deferred:
        notes.append(deferred_note(evaluation.coverage))
    if not evaluation.collateral.measured:
        if policy.collateral_required:
            checks.append(Check(COLLATERAL_CHECK, None, 1, ">=", False, NOT_MEASURED))
        else:
            notes.append(NOT_MEASURED)
    return Verdict(policy.name, tuple(checks), tuple(notes))


def split_batch(policy: Policy, evaluation: Evaluation, decision: Verdict, names: list[str]) -> list[tuple[list[str], Verdict]]:
    """Who is recorded together, with which verdict. A batch that failed only on some people's own
    checks is split: the people who pass on their own are erased (and released) together, the
    others held back with their own verdict, so one person's failure holds back nobody else. A
    failure every person shares (the retain people, the canaries, an earlier person) splits
    nothing: the whole batch fails."""
    if decision.passed or len(names) < 2:
        return [(names, decision)]
    passing = [n for n in names if verdict(policy, evaluation.for_people([n])).passed]
    if not passing:
        return [(names, decision)]
    failing = [n for n in names if n not in passing]
    return [(group, verdict(policy, evaluation.for_people(group))) for group in (passing, failing)]
