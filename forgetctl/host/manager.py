"""Load plugins and collect what they register.

Built-in plugins are entry points of the `forgetctl` distribution in the group `forgetctl`,
loaded by exactly the same code as a third-party package's. `FORGETCTL_PLUGINS` (comma-separated
entry-point names) allow-lists which entry points load; unset means all, empty means none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from forgetctl.errors import PluginError
from forgetctl.host import hookspecs

ENTRY_POINT_GROUP = "forgetctl"
ALLOW_LIST_VARIABLE = "FORGETCTL_PLUGINS"
REGISTER_HOOKS = ("register_methods", "register_judges")


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
        found: dict[str, Registered] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            def register(cls, plugin=impl.plugin_name):
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {plugin!r} registered {cls!r} without a `name` attribute")
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
    pm = pluggy.PluginManager("forgetctl")
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    if load_entry_points:
        allowed = allowed_entry_points()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if (allowed is not None and ep.name not in allowed) or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must say which one it is
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            pm.register(plugin, name=ep.name)
            host.versions[ep.name] = ep.dist.version if ep.dist else "unversioned"
    host._check()
    return host
