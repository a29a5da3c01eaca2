"""RANDOM (Yao et al. 2024): GA, plus tuning forget inputs toward randomly drawn retain answers."""

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import UnlearningMethod


class RandomAnswers(UnlearningMethod):
    name = "random"
    learning_rates = {"default": 1e-4, "tiny": 1e-3, "llava-1.6-mistral": 1e-4, "llava-1.6-vicuna": 1e-4}

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import mean_token_nll  # torch: only when training

        ascent = -mean_token_nll(ctx.model, ctx.encode_examples(forget))
        substitutes = [ctx.rng.choice(ctx.retain_answers) for _ in forget]
        toward_random = mean_token_nll(ctx.model, ctx.encode_examples(forget, substitutes))
        return ascent + toward_random


@hookimpl
def register_methods(register):
    register(RandomAnswers)
