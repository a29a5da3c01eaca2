"""NPO (Zhang et al. 2024): L = -(2/beta) * mean(log sigmoid(-beta * (NLL_ref - NLL_theta)))."""

from pydantic import Field

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions, UnlearningMethod


class NegativePreferenceOptimization(UnlearningMethod):
    name = "npo"
    learning_rates = {"default": 1e-4, "tiny": 1e-3, "llava-1.6-mistral": 1e-4, "llava-1.6-vicuna": 5e-4}

    class Options(MethodOptions):
        beta: float = Field(0.1, gt=0, description="inverse temperature of the preference loss")
        reference_batch_size: int = Field(16, ge=1, description="samples per reference forward pass")

    def __init__(self, options=None):
        super().__init__(options)
        self._reference_nll: dict[str, float] = {}

    def prepare(self, ctx, forget):
        from forgetctl.engine.losses import sequence_nll  # torch: only when training

        # The reference log-probs never change: compute them once per sample, not once per step.
        size = self.options.reference_batch_size
        with ctx.reference() as base:
            for start in range(0, len(forget), size):
                chunk = forget[start : start + size]
                nll = sequence_nll(base, ctx.encode_examples(chunk))
                self._reference_nll.update({e.key: v for e, v in zip(chunk, nll.tolist())})
                ctx.progress(len(chunk))

    def loss(self, ctx, forget):
        import torch
        import torch.nn.functional as F

        from forgetctl.engine.losses import sequence_nll

        nll = sequence_nll(ctx.model, ctx.encode_examples(forget))
        reference = torch.tensor([self._reference_nll[e.key] for e in forget], device=nll.device)
        log_ratio = reference - nll
        beta = self.options.beta
        return -(2 / beta) * F.logsigmoid(-beta * log_ratio).mean()


@hookimpl
def register_methods(register):
    register(NegativePreferenceOptimization)
