"""Every hook a forgetctl plugin can implement. Hooks take a `register` callback rather than
returning values, so one plugin can register several things and the host can stamp each with
the plugin that registered it. Each registered class must subclass the base class named in its
hook's docstring; the host checks that at registration."""

import pluggy

hookspec = pluggy.HookspecMarker("forgetctl")
hookimpl = pluggy.HookimplMarker("forgetctl")


@hookspec
def register_methods(register):
    """Register unlearning methods: call `register(MethodClass)` once per method.

    A method subclasses `forgetctl.engine.unlearning.UnlearningMethod`: a unique lowercase `name`,
    typed `Options` with the paper's defaults, and a `loss(ctx, forget)` method.
    """


@hookspec
def register_attacks(register):
    """Register attacks for `verify --attacks`: call `register(AttackClass)` once per attack.

    An attack subclasses `forgetctl.attacks.Attack`: a unique `name`, a `label`, typed `Options`,
    `probes(target, split)` (what to ask) and, to change the model first, `attack_model`.
    """


@hookspec
def register_judges(register):
    """Register judges: call `register(JudgeClass)` once per judge.

    A judge subclasses `forgetctl.evaluation.judging.Judge`: a unique lowercase `name`, a `label`,
    typed `Options` (given as --judge-option KEY=VALUE), and `grade(request)` on the privacy,
    informativeness and hallucination rubrics.
    """


@hookspec
def register_metrics(register):
    """Register a site's own metrics: call `register(MetricClass)` once per metric.

    A metric subclasses `forgetctl.evaluation.metrics.AnswerMetric`: a unique `name`, a `metric`
    declaration (a `Metric` with scope "forget" or "retain" and, to let policies bound it, a
    `check` name), and `measure(after, before)` over a set of answers.
    """
