"""NPO (Zhang et al. 2024): L = -(2/beta) * mean(log sigmoid(-beta * (NLL_ref - NLL_theta)))."""

import torch
import torch.nn.functional as F

from forgetctl.engine.losses import sequence_nll
from forgetctl.engine.unlearning import UnlearningMethod
from forgetctl.host.hookspecs import hookimpl


class NegativePreferenceOptimization(UnlearningMethod):
    name = "npo"
    learning_rates = {"default": 1e-4, "forgetctl-demo": 1e-3, "llava-1.6-mistral": 1e-4, "llava-1.6-vicuna": 5e-4}

    def __init__(self, beta: float = 0.1, reference_batch_size: int = 16):
        self.beta = beta
        self.reference_batch_size = reference_batch_size
        self._reference_nll: dict[str, float] = {}

    def prepare(self, ctx, forget):
        # The reference log-probs never change: compute them once per sample, not once per step.
        with ctx.reference() as base:
            for start in range(0, len(forget), self.reference_batch_size):
                chunk = forget[start : start + self.reference_batch_size]
                nll = sequence_nll(base, ctx.encode_examples(chunk))
                self._reference_nll.update({e.key: v for e, v in zip(chunk, nll.tolist())})

    def loss(self, ctx, forget):
        nll = sequence_nll(ctx.model, ctx.encode_examples(forget))
        reference = torch.tensor([self._reference_nll[e.key] for e in forget], device=nll.device)
        log_ratio = reference - nll
        return -(2 / self.beta) * F.logsigmoid(-self.beta * log_ratio).mean()


@hookimpl
def register_methods(register):
    register(NegativePreferenceOptimization)
