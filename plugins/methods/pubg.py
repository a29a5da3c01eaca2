"""PUBG (post-unlearning behaviour guidance): GA on the leaked answers plus cross-entropy on
samples o* drawn from the frozen base model given the paper's Figure 2 in-context prompt.

`ga_ceiling` (nats per token) is ours, not the paper's: a leaked-answer token whose NLL is already
above it gets no more ascent. Unbounded GA keeps pushing at full Adam step size after the facts
are gone and, on the demo model, collapses answers into repetition in about half the runs; with
the ceiling every measured run stayed descriptive. `ga_ceiling=null` restores the paper's loss.
"""

from pydantic import Field

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions, UnlearningMethod
from forgetctl.prompts import with_in_context_prompt


class BehaviourGuidance(UnlearningMethod):
    name = "pubg"
    learning_rates = {"default": 2e-5, "tiny": 1e-3, "llava-1.6-mistral": 2e-5, "llava-1.6-vicuna": 3e-5}

    class Options(MethodOptions):
        samples_per_query: int = Field(4, ge=1, description="o* samples per (photo, question)")
        temperature: float = Field(1.0, gt=0, description="sampling temperature of o*")
        max_new_tokens: int = Field(64, ge=1, description="length limit of each o* sample")
        ga_ceiling: float | None = Field(4.0, gt=0, description="NLL per token above which GA stops (null: never)")

    def __init__(self, options=None):
        super().__init__(options)
        self._guidance: dict[str, list[str]] = {}

    def prepare(self, ctx, forget):
        # One set of o* per distinct (view, question); several leaked answers may share it.
        queries = {}
        for e in forget:
            queries.setdefault(self._query_key(e), e)
        o = self.options
        samples = ctx.sample_reference(
            [e.image for e in queries.values()],
            [with_in_context_prompt(e.question) for e in queries.values()],
            samples=o.samples_per_query, temperature=o.temperature, max_new_tokens=o.max_new_tokens,
        )
        self._guidance = {key: [s for s in outs if s] or outs for key, outs in zip(queries, samples)}

    @staticmethod
    def _query_key(example):
        return example.key.rsplit(":", 1)[0]

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import mean_token_nll  # torch: only when training

        ascent = -mean_token_nll(ctx.model, ctx.encode_examples(forget), ceiling=self.options.ga_ceiling)
        targets = [ctx.rng.choice(self._guidance[self._query_key(e)]) for e in forget]
        guidance = mean_token_nll(ctx.model, ctx.encode_examples(forget, targets))
        return ascent + guidance


@hookimpl
def register_methods(register):
    register(BehaviourGuidance)
