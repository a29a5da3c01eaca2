"""Every hook a forgetctl plugin can implement. Hooks take a `register` callback rather than
returning values, so one plugin can register several things and the host can stamp each with
the plugin that registered it."""

import pluggy

hookspec = pluggy.HookspecMarker("forgetctl")
hookimpl = pluggy.HookimplMarker("forgetctl")


@hookspec
def register_methods(register):
    """Register unlearning methods: call `register(MethodClass)` once per method.

    A method class has a unique lowercase `name`, hyperparameters as constructor keywords with
    the paper's defaults, and a `loss(...)` method (see forgetctl.engine.methods).
    """


@hookspec
def register_judges(register):
    """Register judges: call `register(JudgeClass)` once per judge.

    A judge class has a unique lowercase `name` and grades answers on the privacy,
    informativeness and hallucination rubrics (see forgetctl.evaluation.judging).
    """
