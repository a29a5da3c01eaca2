"""Policies: thresholds a run must meet to be recorded as an erasure, and the verdict.

A check whose value could not be measured (no conclusive judge grade, say) fails: evidence that
was not measured is never treated as good. With `inconclusive_fails`, any inconclusive grade
fails the run outright.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path

from forgetctl.errors import InputError

# check name -> (metric in each split's metrics, "min" or "max" over splits, comparison)
CHECKS = {
    "usr_min": ("usr", "min", ">="),
    "name_leak_rate_max": ("name_leak_rate", "max", "<="),
    "judge_privacy_max": ("judge_privacy", "max", "<="),
    "judge_informativeness_min": ("judge_informativeness", "min", ">="),
    "judge_hallucination_max": ("judge_hallucination", "max", "<="),
    "refusal_rate_max": ("refusal_rate", "max", "<="),
    "degenerate_rate_max": ("degenerate_rate", "max", "<="),
    "hallucinated_identity_rate_max": ("hallucinated_identity_rate", "max", "<="),
}

EXIT_PASS, EXIT_ERROR, EXIT_POLICY_FAILED = 0, 1, 2


@dataclass
class Policy:
    name: str
    description: str
    thresholds: dict[str, float]
    inconclusive_fails: bool


@dataclass
class Check:
    name: str
    measured: float | None
    threshold: float
    comparison: str
    passed: bool
    note: str = ""


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
        raise InputError(f"unknown policy {name_or_file!r}; use one of {', '.join(builtin_policies())} or a .toml file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"policy {name_or_file}: invalid TOML ({exc})") from None
    thresholds = data.get("thresholds", {})
    unknown = set(thresholds) - set(CHECKS) - {"retain_rouge_drop_max"}
    if unknown:
        raise InputError(f"policy {name_or_file}: unknown thresholds {', '.join(sorted(unknown))}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in thresholds.values()):
        raise InputError(f"policy {name_or_file}: thresholds must be numbers")
    return Policy(
        name=name, description=data.get("description", ""), thresholds=dict(thresholds),
        inconclusive_fails=bool(data.get("judge", {}).get("inconclusive_fails", True)),
    )


def _compare(value: float, comparison: str, threshold: float) -> bool:
    return value >= threshold if comparison == ">=" else value <= threshold


def verdict(policy: Policy, evaluation: dict) -> dict:
    """Every check with its measured value (worst person and split) and threshold."""
    splits = [m for person in evaluation["forget"].values() for m in person.values()]
    checks = []
    for key, threshold in policy.thresholds.items():
        if key == "retain_rouge_drop_max":
            value = evaluation["retain"].get("rouge_l_drop")
            checks.append(Check(key, value, threshold, "<=", value is not None and value <= threshold,
                                "" if value is not None else "not measured"))
            continue
        metric, worst, comparison = CHECKS[key]
        values = [m.get(metric) for m in splits]
        if not values or any(v is None for v in values):
            checks.append(Check(key, None, threshold, comparison, False, "not measured (no conclusive grade?)"))
            continue
        value = min(values) if worst == "min" else max(values)
        checks.append(Check(key, value, threshold, comparison, _compare(value, comparison, threshold)))
    inconclusive = sum(m.get("judge_inconclusive", 0) for m in splits) + evaluation["retain"].get("judge_inconclusive", 0)
    if policy.inconclusive_fails:
        checks.append(Check("judge_inconclusive_max", inconclusive, 0, "<=", inconclusive == 0,
                            "grades the judge could not give"))
    return {
        "policy": policy.name,
        "passed": all(c.passed for c in checks),
        "checks": [asdict(c) for c in checks],
    }
