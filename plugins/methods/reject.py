"""REJECT (Maini et al. 2024, the TOFU "I don't know" baseline): tune forget inputs toward refusals."""

import zlib

from pydantic import Field

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions, UnlearningMethod
from forgetctl.prompts import REFUSALS


class Reject(UnlearningMethod):
    name = "reject"
    learning_rates = {"default": 1e-5, "tiny": 2e-3, "llava-1.6-mistral": 1e-5, "llava-1.6-vicuna": 1e-4}

    class Options(MethodOptions):
        phrasings: int = Field(2, ge=1, le=len(REFUSALS), description="refusal phrasings to draw from")

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import mean_token_nll  # torch: only when training

        # One fixed refusal per example: a stable target is learned in 30 steps, a reshuffled one is not.
        refusals = [REFUSALS[zlib.crc32(e.key.encode()) % self.options.phrasings] for e in forget]
        return mean_token_nll(ctx.model, ctx.encode_examples(forget, refusals))


@hookimpl
def register_methods(register):
    register(Reject)
