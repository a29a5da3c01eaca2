"""The loss pieces on tiny tensors, checked against the formulas written out by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

from forgetctl.engine.chat import IGNORE_INDEX
from forgetctl.engine.losses import answer_logits, kl_to_teacher, mean_token_nll, sequence_nll


class FixedLogits(torch.nn.Module):
    """A 'model' whose logits are a parameter: enough to test what the losses do with them."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits.clone())

    def forward(self, **inputs):
        return type("Out", (), {"logits": self.logits})()


@pytest.fixture
def case():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7)  # batch 2, 5 positions, vocabulary 7
    # Position 0 is prompt; answers are the tokens at positions 2-4 (row 0) and 3-4 (row 1).
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 3, 1, 6], [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 2, 5]])
    return FixedLogits(logits), {"input_ids": torch.zeros(2, 5, dtype=torch.long), "labels": labels}


def token_nll(logits, row, position, token):
    """NLL of `token` at `position`, predicted by the logits one position earlier."""
    return -F.log_softmax(logits[row, position - 1], -1)[token].item()


def test_answer_logits_shift_by_one_and_mask_the_prompt(case):
    model, batch = case
    logits, labels, mask = answer_logits(model, batch)
    assert logits.shape == (2, 4, 7) and torch.equal(labels, batch["labels"][:, 1:])
    assert mask.tolist() == [[False, True, True, True], [False, False, True, True]]
    assert "labels" in batch  # the batch itself is not modified


def test_sequence_nll_sums_each_answer(case):
    model, batch = case
    expected = [
        sum(token_nll(model.logits.detach(), 0, p, t) for p, t in ((2, 3), (3, 1), (4, 6))),
        sum(token_nll(model.logits.detach(), 1, p, t) for p, t in ((3, 2), (4, 5))),
    ]
    assert sequence_nll(model, batch).tolist() == pytest.approx(expected, rel=1e-5)


def test_mean_token_nll_averages_over_answer_tokens(case):
    model, batch = case
    total = sequence_nll(model, batch).sum().item()
    assert mean_token_nll(model, batch).item() == pytest.approx(total / 5, rel=1e-5)


def test_the_ceiling_caps_nll_and_stops_its_gradient(case):
    model, batch = case
    nlls = [token_nll(model.logits.detach(), r, p, t) for r, p, t in ((0, 2, 3), (0, 3, 1), (0, 4, 6), (1, 3, 2), (1, 4, 5))]
    ceiling = sorted(nlls)[2]  # two tokens lie above it
    loss = mean_token_nll(model, batch, ceiling=ceiling)
    assert loss.item() == pytest.approx(sum(min(n, ceiling) for n in nlls) / 5, rel=1e-5)
    loss.backward()
    grads = model.logits.grad
    for (row, position, _), nll in zip(((0, 2, 3), (0, 3, 1), (0, 4, 6), (1, 3, 2), (1, 4, 5)), nlls):
        assert (grads[row, position - 1].abs().sum() > 0) == (nll < ceiling)


def test_kl_to_teacher_is_zero_for_the_teacher_and_matches_the_formula():
    torch.manual_seed(1)
    student, teacher = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    mask = torch.tensor([[True, False, True, True]] * 3)
    assert kl_to_teacher(teacher, teacher, mask).item() == pytest.approx(0.0, abs=1e-6)
    p = F.softmax(teacher, -1)
    by_hand = (p * (p.log() - F.log_softmax(student, -1))).sum(-1)[mask].mean()
    assert kl_to_teacher(student, teacher, mask).item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert kl_to_teacher(student, teacher, mask).item() > 0


def npo_loss(method, current: torch.Tensor) -> torch.Tensor:
    """NPO's loss for two forget samples whose current summed NLLs are `current`."""
    import forgetctl.engine.losses as losses

    class Ctx:
        model = None

        @staticmethod
        def encode_examples(forget):
            return forget

    forget = [type("Example", (), {"key": k})() for k in ("a", "b")]
    original, losses.sequence_nll = losses.sequence_nll, lambda model, batch: current
    try:
        return method.loss(Ctx, forget)
    finally:
        losses.sequence_nll = original


def test_npo_loss_is_the_published_formula():
    """L = -(2/beta) mean log sigmoid(-beta (NLL_ref - NLL_theta))."""
    from forgetctl_plugins.methods.npo import NegativePreferenceOptimization

    method = NegativePreferenceOptimization(NegativePreferenceOptimization.Options(beta=0.5))
    method._reference_nll = {"a": 2.0, "b": 3.0}

    def log_sigmoid(x):
        return -math.log(1 + math.exp(-x))

    # Still the reference model: log sigmoid(0) = log 1/2 for each sample, so L = log 4 / beta.
    assert npo_loss(method, torch.tensor([2.0, 3.0])).item() == pytest.approx(math.log(4) / 0.5, rel=1e-6)
    current = torch.tensor([2.0, 5.0], requires_grad=True)
    loss = npo_loss(method, current)
    by_hand = -(2 / 0.5) * (log_sigmoid(-0.5 * (2.0 - 2.0)) + log_sigmoid(-0.5 * (3.0 - 5.0))) / 2
    assert loss.item() == pytest.approx(by_hand, rel=1e-6)
    loss.backward()
    assert (current.grad < 0).all()  # descending the loss raises the forget NLL


def test_pubg_ascends_only_on_the_tokens_the_photo_informs(monkeypatch):
    """informed_nll: the mean clamped NLL over the masked answer tokens; photo_informed: a token
    is informed when noise instead of the photo raises its NLL by more than the margin."""
    import contextlib

    import forgetctl.engine.losses as losses
    from forgetctl_plugins.methods.pubg import informed_nll, photo_informed

    forget = [type("Example", (), {"key": k})() for k in ("a", "b")]
    nll = {"photo": [torch.tensor([0.5, 6.0, 1.0]), torch.tensor([2.0, 3.0])],
           "noise": [torch.tensor([0.6, 9.0, 2.0]), torch.tensor([2.1, 3.1])]}

    class Ctx:
        model = "model"

        @staticmethod
        def encode_examples(chunk):
            return {"pixel_values": torch.zeros(len(chunk), 3, 4, 4)}

        @staticmethod
        @contextlib.contextmanager
        def reference():
            yield "base"

    def token_nll(model, batch):
        return nll["noise" if batch["pixel_values"].any() else "photo"]

    monkeypatch.setattr(losses, "answer_token_nll", token_nll)
    informed = photo_informed(Ctx, forget, margin=0.693)
    assert informed == {"a": [False, True, True], "b": [False, False]}  # +3.0 and +1.0 nats; +0.1 is not
    # Ascent on the informed tokens only: 6.0 clamped to the ceiling 4.0, and 1.0.
    assert informed_nll(Ctx, forget, informed, ceiling=4.0).item() == pytest.approx((4.0 + 1.0) / 2)
    assert informed_nll(Ctx, forget, {"a": [False] * 3, "b": [False] * 2}, ceiling=4.0).item() == 0.0
