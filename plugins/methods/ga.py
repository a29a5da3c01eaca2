"""GA: gradient ascent on the leaked answers (PUBG eq. 11)."""

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import UnlearningMethod


class GradientAscent(UnlearningMethod):
    name = "ga"
    learning_rates = {"default": 3e-5, "tiny": 5e-4, "llava-1.6-mistral": 3e-5, "llava-1.6-vicuna": 1e-4}

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import mean_token_nll  # torch: only when training

        return -mean_token_nll(ctx.model, ctx.encode_examples(forget))


@hookimpl
def register_methods(register):
    register(GradientAscent)
