import pytest


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
