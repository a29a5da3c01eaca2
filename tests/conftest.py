import os
import sys
import textwrap

import pytest


def pytest_configure(config):
    # The fast suite's models have a few million parameters: a second torch thread only spins
    # (measured: the same wall time, 53 s of user CPU on one thread against 69 s on two). The
    # erase-sized tests keep torch's default, as a user's run would; a thread count set by the
    # caller is kept.
    if config.getoption("markexpr") == "not slow":
        os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def forgetctl_home(tmp_path, monkeypatch):
    """Every test gets its own FORGETCTL_HOME, so nothing touches the user's real audit trail."""
    home = tmp_path / "forgetctl-home"
    monkeypatch.setenv("FORGETCTL_HOME", str(home))
    monkeypatch.delenv("FORGETCTL_PLUGINS", raising=False)
    monkeypatch.delenv("FORGETCTL_DEBUG", raising=False)
    return home


@pytest.fixture
def log(forgetctl_home):
    """A fresh audit log with its keys, in this test's FORGETCTL_HOME."""
    from forgetctl_audit.keys import Keyring
    from forgetctl_audit.store import AuditLog

    Keyring(forgetctl_home / "keys").init()
    audit = AuditLog(forgetctl_home)
    yield audit
    audit.close()


@pytest.fixture(scope="session")
def demo_model():
    """The shipped demo model, loaded once through the generic loader."""
    from forgetctl.demo import demo_model_dir
    from forgetctl.engine.loading import load_model

    return load_model(demo_model_dir(), device="cpu")


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Install a third-party plugin as a real distribution: a module on sys.path and a dist-info
    whose entry point (group `forgetctl`) names it. `install_plugin(entry, module, version, source)`."""
    modules = []

    def install(entry: str, module: str, version: str, source: str = "") -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source)) if source else None
        dist = tmp_path / f"{module}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: {version}\n")
        (dist / "entry_points.txt").write_text(f"[forgetctl]\n{entry} = {module}\n")
        modules.append(module)
        site_metrics.cache_clear()  # read once per process, as a command would: this test is a new one

    from forgetctl.evaluation.metrics import site_metrics

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    for module in modules:
        sys.modules.pop(module, None)
    site_metrics.cache_clear()


def fewer_photos(request, seen: int = 2, unseen: int = 1, retain: int = 2):
    """The request with a few of its photos: every stage still runs, on a fraction of the
    generation (the demo world writes six views per person)."""
    from dataclasses import replace

    spec = request.spec
    people = tuple(replace(p, seen=p.seen[:seen], unseen=p.unseen[:unseen]) for p in spec.people)
    return replace(request, spec=replace(spec, people=people, retain=spec.retain[:retain]))
