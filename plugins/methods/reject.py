"""REJECT (Maini et al. 2024, the TOFU "I don't know" baseline): tune forget inputs toward refusals."""

from forgetctl.engine.losses import mean_token_nll
from forgetctl.engine.unlearning import UnlearningMethod
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import REFUSALS


class Reject(UnlearningMethod):
    name = "reject"
    learning_rates = {"default": 1e-5, "llava-1.6-mistral": 1e-5, "llava-1.6-vicuna": 1e-4}

    def loss(self, ctx, forget):
        refusals = [ctx.rng.choice(REFUSALS) for _ in forget]
        return mean_token_nll(
            ctx.model, ctx.encode([e.image for e in forget], [e.question for e in forget], refusals)
        )


@hookimpl
def register_methods(register):
    register(Reject)
