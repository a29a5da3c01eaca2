"""Load plugins and collect what they register.

Built-in plugins are listed in DEFAULT_PLUGINS and registered with the same call as a
third-party package's entry points (group `forgetctl`), so they are plugins like any other but
always present: a run can never end up with no method or judge at all. `FORGETCTL_PLUGINS`
(comma-separated entry-point names) allow-lists which third-party entry points load; unset
means all, empty means none.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points, version

import pluggy

from forgetctl.errors import PluginError
from forgetctl.host import hookspecs

ENTRY_POINT_GROUP = "forgetctl"
ALLOW_LIST_VARIABLE = "FORGETCTL_PLUGINS"
DEFAULT_PLUGINS = {
    "ga": "forgetctl_plugins.methods.ga",
    "npo": "forgetctl_plugins.methods.npo",
    "random": "forgetctl_plugins.methods.random_answers",
    "reject": "forgetctl_plugins.methods.reject",
    "pubg": "forgetctl_plugins.methods.pubg",
    "vgid": "forgetctl_plugins.methods.vgid",
    "grounded": "forgetctl_plugins.judges.grounded",
    "ollama": "forgetctl_plugins.judges.ollama_judge",
    "questions": "forgetctl_plugins.attacks.questions",
    "transforms": "forgetctl_plugins.attacks.transforms",
    "relearn": "forgetctl_plugins.attacks.relearn",
    "quantize": "forgetctl_plugins.attacks.quantize",
}


def hook_base_classes() -> dict[str, type]:
    """What each registering hook's classes must subclass (imported late: they pull in torch)."""
    from forgetctl.attacks import Attack
    from forgetctl.evaluation.judging import Judge
    from forgetctl.evaluation.metrics import AnswerMetric
    from forgetctl.methods import UnlearningMethod

    return {"register_methods": UnlearningMethod, "register_judges": Judge, "register_attacks": Attack,
            "register_metrics": AnswerMetric}


@dataclass(frozen=True)
class Registered:
    """A method or judge class, stamped with the plugin (and its version) that registered it."""

    name: str
    cls: type
    plugin: str
    version: str


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    versions: dict[str, str] = field(default_factory=dict)

    def register(self, plugin: object, name: str, version: str | None = None) -> None:
        """Register a module or object as a plugin (what tests and embedding apps do)."""
        self.pm.register(plugin, name=name)
        self.versions[name] = version or str(getattr(plugin, "__version__", "unversioned"))
        self._check()

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.versions.pop(name, None)

    def _check(self) -> None:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"{exc}; check the hook's spelling against forgetctl.host.hookspecs") from None

    def _collect(self, hook_name: str) -> dict[str, Registered]:
        # Each implementation is called on its own so the host knows which plugin registered what;
        # a single pm.hook call would lose that, and the audit record needs it.
        base = hook_base_classes()[hook_name]
        found: dict[str, Registered] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            def register(cls, plugin=impl.plugin_name):
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginError(
                        f"plugin {plugin!r} registered {cls!r} from {hook_name}, which is not a subclass of "
                        f"{base.__module__}.{base.__name__}"
                    )
                name = cls.name
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {plugin!r} registered {cls.__name__} without a `name`")
                if name in found:
                    raise PluginError(
                        f"{name!r} is registered twice (by {found[name].plugin!r} and {plugin!r}); "
                        f"allow-list one of them with {ALLOW_LIST_VARIABLE}"
                    )
                found[name] = Registered(name, cls, plugin, self.versions.get(plugin, "unversioned"))

            impl.function(register=register)
        return found

    def methods(self) -> dict[str, Registered]:
        return self._collect("register_methods")

    def judges(self) -> dict[str, Registered]:
        return self._collect("register_judges")

    def attacks(self) -> dict[str, Registered]:
        return self._collect("register_attacks")

    def metrics(self) -> dict[str, Registered]:
        """Site metrics, each declared so that it can neither hide nor replace a built-in or another site's."""
        from forgetctl.evaluation.metrics import METRICS, REMEDIES, SITE_SCOPES, Metric

        found = self._collect("register_metrics")
        keys = {(m.key, m.scope) for m in METRICS}
        site_keys: set[str] = set()  # a site metric is stored under its key alone (Evaluation.site_metrics)
        checks = {m.check for m in METRICS if m.check} | set(REMEDIES)
        for r in found.values():
            declared = getattr(r.cls, "metric", None)
            problem = (
                "its `metric` is not a forgetctl.evaluation.metrics.Metric" if not isinstance(declared, Metric)
                else f"its scope {declared.scope!r} is not one of {', '.join(SITE_SCOPES)}" if declared.scope not in SITE_SCOPES
                else f"its better {declared.better!r} is not 'higher' or 'lower'" if declared.better not in ("higher", "lower")
                else f"its key {declared.key!r} is declared already (built-in or another plugin's)"
                if (declared.key, declared.scope) in keys or declared.key in site_keys
                else f"its check {declared.check!r} is declared already" if declared.check and declared.check in checks
                else None
            )
            if problem:
                raise PluginError(f"plugin {r.plugin!r} registered metric {r.name!r}, but {problem}")
            keys.add((declared.key, declared.scope))
            site_keys.add(declared.key)
            checks |= {declared.check} - {None}
        return found

    def plugins(self) -> list[dict]:
        """Every loaded plugin with its version and the hooks it implements, sorted by name."""
        rows = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            rows.append({"name": name, "version": self.versions.get(name, "unversioned"), "hooks": hooks})
        return sorted(rows, key=lambda r: r["name"])


def allowed_entry_points() -> set[str] | None:
    value = os.environ.get(ALLOW_LIST_VARIABLE)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def create_host(load_entry_points: bool = True) -> PluginHost:
    """A host with the built-in plugins and, unless told not to, third-party entry points."""
    pm = pluggy.PluginManager("forgetctl")
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    builtin_version = version("forgetctl")
    for name, module in DEFAULT_PLUGINS.items():
        pm.register(importlib.import_module(module), name=name)
        host.versions[name] = builtin_version
    if load_entry_points:
        allowed = allowed_entry_points()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            if pm.has_plugin(ep.name):  # skipping it silently would run the built-in in its place
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) has the name of a built-in plugin; rename its "
                                  f"entry point, or leave it out with {ALLOW_LIST_VARIABLE}")
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must say which one it is
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            pm.register(plugin, name=ep.name)
            host.versions[ep.name] = ep.dist.version if ep.dist else "unversioned"
    host._check()
    return host
