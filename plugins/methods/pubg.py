"""PUBG (post-unlearning behaviour guidance): GA on the leaked answers plus cross-entropy on
samples o* drawn from the frozen base model given the paper's Figure 2 in-context prompt.

`ga_ceiling` (nats per token) is ours, not the paper's: a leaked-answer token whose NLL is already
above it gets no more ascent. Unbounded GA keeps pushing at full Adam step size after the facts
are gone and, on the demo model, collapses answers into repetition in about half the runs; with
the ceiling every measured run stayed descriptive. `ga_ceiling=null` restores the paper's loss.

`ascent="photo"` (ours) ascends only on the answer tokens the photo makes more likely: those whose
NLL under the frozen base model rises by more than `photo_margin` nats when the photo is replaced
by noise. The words every answer shares ("This is", "born in") are predictable without the photo;
pushing them down rewrote other people's answers (a colour in place of a birthplace, docs/stability.md).
`ascent="all"` is the paper's GA on every answer token.
"""

from typing import Literal

from pydantic import Field

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions, UnlearningMethod
from forgetctl.prompts import with_in_context_prompt


class BehaviourGuidance(UnlearningMethod):
    name = "pubg"
    # "tiny" was 1e-3: erasing one person then rewrote other people the run never trained on (a
    # look-alike's answers, a shared fact, canary drift up to 0.94); at 3e-4 the same runs leave
    # every canary at 0 with the same leaks and relearning resistance (docs/bystanders.md).
    learning_rates = {"default": 2e-5, "tiny": 3e-4, "llava-1.6-mistral": 2e-5, "llava-1.6-vicuna": 3e-5}

    class Options(MethodOptions):
        samples_per_query: int = Field(4, ge=1, description="o* samples per (photo, question)")
        temperature: float = Field(1.0, gt=0, description="sampling temperature of o*")
        max_new_tokens: int = Field(64, ge=1, description="length limit of each o* sample")
        ga_ceiling: float | None = Field(4.0, gt=0, description="NLL per token above which GA stops (null: never)")
        ascent: Literal["photo", "all"] = Field("photo", description="GA on the tokens the photo informs, or all")
        photo_margin: float = Field(0.693, ge=0, description="nats the photo must add to a token for GA on it")

    def __init__(self, options=None):
        super().__init__(options)
        self._guidance: dict[str, list[str]] = {}
        self._informed: dict[str, list[bool]] = {}  # per forget example: which answer tokens the photo informs

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
        if o.ascent == "photo":
            self._informed = photo_informed(ctx, forget, o.photo_margin)

    @staticmethod
    def _query_key(example):
        return example.key.rsplit(":", 1)[0]

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import mean_token_nll  # torch: only when training

        if self.options.ascent == "photo":
            ascent = -informed_nll(ctx, forget, self._informed, self.options.ga_ceiling)
        else:
            ascent = -mean_token_nll(ctx.model, ctx.encode_examples(forget), ceiling=self.options.ga_ceiling)
        targets = [ctx.rng.choice(self._guidance[self._query_key(e)]) for e in forget]
        guidance = mean_token_nll(ctx.model, ctx.encode_examples(forget, targets))
        return ascent + guidance


def photo_informed(ctx, forget, margin: float, batch_size: int = 8) -> dict[str, list[bool]]:
    """Per example: for each answer token, whether the frozen base model finds it more than
    `margin` nats less likely when the photo is noise (seeded: torch was seeded before prepare)."""
    import torch

    from forgetctl.engine.losses import answer_token_nll

    informed = {}
    with ctx.reference() as base:
        for start in range(0, len(forget), batch_size):
            chunk = forget[start : start + batch_size]
            batch = ctx.encode_examples(chunk)
            with_photo = answer_token_nll(base, batch)
            batch["pixel_values"] = torch.rand_like(batch["pixel_values"])
            with_noise = answer_token_nll(base, batch)
            for e, seen, blind in zip(chunk, with_photo, with_noise):
                informed[e.key] = ((blind - seen) > margin).tolist()
    return informed


def informed_nll(ctx, forget, informed: dict[str, list[bool]], ceiling: float | None):
    """Mean NLL over the photo-informed answer tokens of the batch (clamped at `ceiling`)."""
    import torch

    from forgetctl.engine.losses import answer_token_nll

    per_example = answer_token_nll(ctx.model, ctx.encode_examples(forget))
    chosen = torch.cat([nll[torch.tensor(informed[e.key], device=nll.device)] for nll, e in zip(per_example, forget)])
    if chosen.numel() == 0:  # nothing in this batch comes from the photo: no ascent
        return per_example[0].sum() * 0.0
    return (chosen.clamp(max=ceiling) if ceiling is not None else chosen).mean()


@hookimpl
def register_methods(register):
    register(BehaviourGuidance)
