"""What one run's evaluation found, typed: the metric tables, the judge's grades kept apart from
them (grades quote answers, so they are evidence, never a record), and how much of the lineage
and of the bystanders the run re-asked.

A metric table maps a metric's key to its value, None where it could not be measured; the keys
are the ones forgetctl.evaluation.metrics declares (built-in or a site's), so the table is as
open as that registry. `record()` is the shape the audit record and the auditor's script read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

Metrics = dict[str, object]  # metric key -> value (None: not measured)


@dataclass(frozen=True)
class Coverage:
    """How many of the people erased before this release were re-probed: `deferred` were not,
    and each is re-probed at least once in `every` releases (forgetctl.lineage.reprobe_choice)."""

    earlier: int = 0
    deferred: tuple[str, ...] = ()
    every: int = 1

    @classmethod
    def of(cls, manifest: dict | None) -> Coverage:
        lineage = (manifest or {}).get("lineage", {})
        return cls(len(lineage.get("earlier", [])), tuple(lineage.get("deferred", [])), lineage.get("reprobe_every", 1))


@dataclass(frozen=True)
class Collateral:
    """Who besides the erased people was re-asked; with nobody, forgetting a look-alike goes unseen."""

    retain_photos: int = 0
    earlier_retain_photos: int = 0
    canary_photos: int = 0

    @property
    def measured(self) -> bool:
        return bool(self.retain_photos or self.earlier_retain_photos or self.canary_photos)

    def record(self) -> dict:
        return {"measured": self.measured, **asdict(self)}


@dataclass(frozen=True)
class Evaluation:
    """Per erased person and split ("seen", "unseen") a metric table; the retain set's; per
    request an earlier release erased, a table per split; per canary, one."""

    forget: dict[str, dict[str, Metrics]]
    retain: Metrics
    grades: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # person -> split -> every grade
    judge: dict = field(default_factory=dict)  # the judge plugin's description
    earlier: dict[str, dict[str, Metrics]] = field(default_factory=dict)
    earlier_unverifiable: dict[str, str] = field(default_factory=dict)  # request id -> why it cannot be re-probed
    coverage: Coverage = Coverage()
    bystanders: dict[str, Metrics] = field(default_factory=dict)
    collateral: Collateral = Collateral()
    site_metrics: dict[str, str] = field(default_factory=dict)  # site metric key -> the plugin that measured it
    site_failures: dict[str, str] = field(default_factory=dict)  # site metric key -> why it was not measured
    private_terms: dict[str, list] = field(default_factory=dict)  # person -> their private facts (evidence only)

    def for_people(self, names) -> Evaluation:
        """Only these people's own tables (the retain set, the earlier people and the canaries
        are shared by the whole run)."""
        return replace(self, forget={n: m for n, m in self.forget.items() if n in names})

    def record(self, by_request: dict[str, str]) -> dict:
        """The numbers an outcome record signs, people named by their request ids."""
        return {
            "metrics": {by_request[name]: splits for name, splits in self.forget.items()},
            "retain_metrics": self.retain, "earlier": self.earlier, "earlier_unverifiable": self.earlier_unverifiable,
            "earlier_coverage": {**asdict(self.coverage), "deferred": list(self.coverage.deferred)},
            "bystanders": self.bystanders, "collateral": self.collateral.record(), "judge": self.judge,
            "site_metrics": self.site_metrics, "site_failures": self.site_failures,
        }
