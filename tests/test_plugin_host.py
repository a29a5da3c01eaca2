import types

import pytest

from forgetctl.errors import PluginError
from forgetctl.host.hookspecs import hookimpl
from forgetctl.host.manager import DEFAULT_PLUGINS, create_host
from forgetctl.methods import UnlearningMethod


class Shout(UnlearningMethod):
    name = "shout"


def make_plugin_module(name: str, hook: str = "register_methods", cls=Shout):
    module = types.ModuleType(name)

    def impl(register):
        register(cls)

    impl.__name__ = hook
    setattr(module, hook, hookimpl(impl))
    return module


def test_hook_register_methods_a_module_plugin_registers_a_method_stamped_with_its_plugin():
    host = create_host(load_entry_points=False)
    host.register(make_plugin_module("shout_plugin"), name="shout-plugin", version="1.2.3")
    try:
        registered = host.methods()["shout"]
        assert registered.cls is Shout
        assert (registered.plugin, registered.version) == ("shout-plugin", "1.2.3")
        row = next(r for r in host.plugins() if r["name"] == "shout-plugin")
        assert row["hooks"] == ["register_methods"]
    finally:
        host.unregister("shout-plugin")
    assert "shout" not in host.methods()


def test_misspelled_hook_fails_loudly():
    host = create_host(load_entry_points=False)
    with pytest.raises(PluginError, match="register_method"):
        host.register(make_plugin_module("typo", hook="register_method"), name="typo")


def test_duplicate_names_are_refused():
    host = create_host(load_entry_points=False)
    host.register(make_plugin_module("one"), name="one")
    host.register(make_plugin_module("two"), name="two")
    with pytest.raises(PluginError, match="registered twice"):
        host.methods()


class NotAMethod:
    name = "impostor"

    def loss(self, ctx, forget):
        return 0


@pytest.mark.parametrize("hook, cls", [("register_methods", NotAMethod), ("register_judges", Shout)])
def test_a_class_that_does_not_subclass_the_hooks_base_is_refused_at_registration(hook, cls):
    host = create_host(load_entry_points=False)
    host.register(make_plugin_module("odd", hook=hook, cls=cls), name="odd")
    with pytest.raises(PluginError, match="not a subclass of forgetctl"):
        host.methods() if hook == "register_methods" else host.judges()


@pytest.fixture
def installed_thirdparty(install_plugin):
    """A real installed distribution (dist-info + module on sys.path) exposing a forgetctl entry point."""
    install_plugin("whisper", "forgetctl_thirdparty", "0.4.2", '''
        from forgetctl.evaluation.judging import Judge
        from forgetctl.host.hookspecs import hookimpl

        class Whisper(Judge):
            name = "whisper"

        @hookimpl
        def register_judges(register):
            register(Whisper)
    ''')


def test_hook_register_judges_an_entry_point_plugin_loads_like_a_builtin(installed_thirdparty):
    host = create_host()
    judge = host.judges()["whisper"]
    assert (judge.plugin, judge.version) == ("whisper", "0.4.2")
    assert host.judges()["grounded"].plugin == "grounded"  # built-ins go through the same registry


def test_allow_list_limits_which_entry_points_load(installed_thirdparty, monkeypatch):
    monkeypatch.setenv("FORGETCTL_PLUGINS", "whisper")
    assert "whisper" in [p["name"] for p in create_host().plugins()]
    monkeypatch.setenv("FORGETCTL_PLUGINS", "")
    names = [p["name"] for p in create_host().plugins()]
    assert "whisper" not in names
    # An empty allow-list still leaves every built-in: a run always has its default method and judge.
    assert set(names) == set(DEFAULT_PLUGINS)
    assert "pubg" in create_host().methods() and "grounded" in create_host().judges()


def test_plugin_that_fails_to_import_is_named(install_plugin):
    install_plugin("broken", "forgetctl_no_such_module", "1.0")
    with pytest.raises(PluginError, match="'broken'.*failed to import"):
        create_host()


def test_a_third_party_plugin_with_a_builtin_name_is_an_error_not_skipped(install_plugin):
    install_plugin("pubg", "forgetctl_impostor", "6.6", '''
        from forgetctl.host.hookspecs import hookimpl
    ''')
    with pytest.raises(PluginError, match="'pubg'.*name of a built-in plugin"):
        create_host()


def test_benchmarks_compare_every_registered_method_the_papers_first(install_plugin):
    from forgetctl.benchmarks import PAPER_ORDER, registered_methods

    install_plugin("eraser", "forgetctl_eraser", "1.0", '''
        from forgetctl.host.hookspecs import hookimpl
        from forgetctl.methods import UnlearningMethod

        class Eraser(UnlearningMethod):
            name = "eraser"

        @hookimpl
        def register_methods(register):
            register(Eraser)
    ''')
    assert registered_methods() == (*PAPER_ORDER, "eraser")


SITE_METRIC = '''
    from forgetctl.evaluation.metrics import AnswerMetric, Metric
    from forgetctl.host.hookspecs import hookimpl

    class Wordy(AnswerMetric):
        name = "wordy"
        metric = Metric("mean_words", "words", "mean words per answer", "lower", "forget", ".1f", "mean_words_max")
        remedy = "a shorter --method-option max_new_tokens"

        def measure(self, after, before):
            return sum(len(a.split()) for a in after) / len(after) if after else None

    @hookimpl
    def register_metrics(register):
        register(Wordy)
'''


def test_hook_register_metrics_declares_a_site_metric_a_policy_can_bound(install_plugin, tmp_path):
    from typer.testing import CliRunner

    from forgetctl.cli import app
    from forgetctl.evaluation.metrics import by_check, measure_site, remedies
    from forgetctl.evaluation.results import Evaluation
    from forgetctl.policy import load_policy, verdict

    policy = tmp_path / "site.toml"
    policy.write_text("[thresholds]\nmean_words_max = 3\n")
    with pytest.raises(Exception, match="mean_words_max"):  # unknown until a plugin declares it
        load_policy(str(policy))
    install_plugin("wordy", "forgetctl_wordy", "2.0", SITE_METRIC)
    assert by_check()["mean_words_max"].label == "words" and "max_new_tokens" in remedies()["mean_words_max"]
    assert measure_site("forget", ["one two", "one two three four"], [], {}) == {"mean_words": 3.0}
    assert measure_site("retain", ["a b"], [], {}) == {}
    split = {"mean_words": 4.0, "leak_rate": 0.0}
    decision = verdict(load_policy(str(policy)), Evaluation(forget={"p": {"seen": split}}, retain={}))
    (check,) = [c for c in decision.checks if c.name == "mean_words_max"]
    assert (check.measured, check.passed, decision.failed) == (4.0, False, ["mean_words_max"])
    listed = CliRunner().invoke(app, ["plugins"], env={"COLUMNS": "80"})
    assert listed.exit_code == 0 and "mean_words" in listed.output and "wordy 2.0" in listed.output


@pytest.mark.parametrize("declaration, problem", [
    ('Metric("leak_rate", "x", "x", "lower", "forget")', "key 'leak_rate' is declared already"),
    ('Metric("mine", "x", "x", "lower", "forget", ".2f", "leak_rate_max")', "check 'leak_rate_max' is declared already"),
    ('Metric("mine", "x", "x", "lower", "earlier")', "scope"),
    ('Metric("mine", "x", "x", "smaller", "forget")', "better"),
    ('"mine"', "not a forgetctl"),
])
def test_hook_register_metrics_refuses_a_metric_that_would_hide_or_replace_a_built_in(install_plugin, declaration, problem):
    install_plugin("odd", "forgetctl_odd_metric", "1.0", SITE_METRIC.replace(
        'Metric("mean_words", "words", "mean words per answer", "lower", "forget", ".1f", "mean_words_max")', declaration))
    with pytest.raises(PluginError, match=f"'odd' registered metric 'wordy', but .*{problem}"):
        create_host().metrics()


def test_hook_register_metrics_refuses_two_site_metrics_under_one_key(install_plugin):
    source = SITE_METRIC.replace("    @hookimpl", """    class Retold(Wordy):
        name = "retold"
        metric = Metric("mean_words", "words", "mean words per retain answer", "lower", "retain")

    @hookimpl""").replace("register(Wordy)", "register(Wordy)\n        register(Retold)")
    install_plugin("twice", "forgetctl_twice_metric", "1.0", source)
    with pytest.raises(PluginError, match="'twice' registered metric 'retold', but its key 'mean_words' is declared already"):
        create_host().metrics()


def test_a_site_metrics_answer_is_kept_only_as_a_finite_number():
    import numpy as np

    from forgetctl.evaluation.metrics import site_value

    assert site_value(None) == (None, None) and site_value(3) == (3.0, None)
    value, why = site_value(np.int64(2))
    assert (value, why) == (2.0, None) and type(value) is float  # numpy's numbers, as plain floats for the record
    assert site_value(True) == (None, "answered bool, not a number")
    assert site_value("calm") == (None, "answered str, not a number")
    assert site_value(float("nan")) == (None, "answered nan, not a finite number")
    assert site_value(float("inf"))[0] is None
