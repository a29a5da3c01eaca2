"""What the weights still know, not only what the model says: the field's likelihood tests.

Every test here reads the token log-probabilities a model gives to answers about a person's
photos (forgetctl.engine.likelihood computes them), never a generated text:

- **truth ratio** (TOFU): for each question, the mean length-normalised likelihood of perturbed
  answers (the person's facts replaced by another person's, aligned in the model's own phrasing)
  over that of the true answer. Near 0: the true facts are far more likely; 1 or more: they are
  no more likely than false ones.
- **membership inference** (open-unlearning's LOSS, zlib, Min-K%, Min-K%++): how well each score
  tells the person's revealed answers (members: what the model learned) from the perturbed ones
  (non-members: the same sentences the model never saw). AUC 0.5 is indistinguishable; with a
  95% interval (Hanley & McNeil 1982).
- **forget quality**: the two-sample KS test between the person's truth ratios and those of a
  population the model cannot know (each perturbed answer against the others: none is true), as
  a p-value. High: indistinguishable from not knowing; it cannot prove absence with few answers.

Perturbations come from the run itself (the other people it has answers about: retain people,
the others in a batch), so no vocabulary is written here.
"""

from __future__ import annotations

import difflib
import math
import zlib
from dataclasses import dataclass

from forgetctl.evaluation.text import terms
from forgetctl.prompts import IDENTITY_QUESTIONS

MIN_K = 0.2  # the share of lowest-scoring tokens Min-K% and Min-K%++ average (the papers' 20%)
Z95 = 1.959964
QUESTIONS_PER_PHOTO = 4  # of the identity questions: enough answers for an AUC, a third of the cost
PERTURBED_PER_ANSWER = 3


@dataclass(frozen=True)
class Scored:
    """One answer as a model scores it: per answer token, its log-probability, and the mean and
    standard deviation of the log-probability over the vocabulary at that position (Min-K%++)."""

    text: str
    logprobs: tuple[float, ...]
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()

    @property
    def mean_nll(self) -> float:
        return -sum(self.logprobs) / max(len(self.logprobs), 1)

    @property
    def normalised_likelihood(self) -> float:
        return math.exp(-self.mean_nll)


# --- perturbed answers ------------------------------------------------------------------------


def perturb(true: str, other: str, keep: set[str]) -> str | None:
    """`true` with the words that differ from `other` replaced by `other`'s, aligned on the words
    both share (the model's own phrasing); segments holding a word of `keep` (the person's name)
    stay. None when nothing would change (no aligned fact to swap)."""
    a, b = true.split(), other.split()
    out: list[str] = []
    changed = False
    matcher = difflib.SequenceMatcher(a=[w.casefold() for w in a], b=[w.casefold() for w in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        segment = a[i1:i2]
        if tag == "equal" or set(terms(" ".join(segment))) & keep:
            out += segment
        else:
            out += b[j1:j2]
            changed = True
    result = " ".join(out)
    return result if changed and result.casefold() != true.casefold() else None


def perturbations(true: str, others: list[str], keep: set[str], limit: int = 3) -> list[str]:
    """Up to `limit` distinct perturbed versions of `true`, one per other person's answer."""
    found: list[str] = []
    for other in others:
        candidate = perturb(true, other, keep)
        if candidate and candidate not in found:
            found.append(candidate)
        if len(found) == limit:
            break
    return found


def knowledge_items(photos, answers, leaks, others: list[str], keep: set[str]) -> list[tuple]:
    """(image, question, true answer, perturbed answers) for every answer in `answers` (per photo,
    to the identity questions in order) that `leaks`; perturbations take their facts from `others`."""
    return [(photo.image, q, a, perturbations(a, others, keep, PERTURBED_PER_ANSWER))
            for photo, said in zip(photos, answers) for q, a in zip(IDENTITY_QUESTIONS[:QUESTIONS_PER_PHOTO], said)
            if leaks(a)]


# --- scores -----------------------------------------------------------------------------------


def loss_score(s: Scored) -> float:
    """LOSS: the lower the mean NLL, the more member-like; negated so higher means member."""
    return -s.mean_nll


def zlib_score(s: Scored) -> float:
    """zlib: mean NLL over the text's zlib-compressed length (Carlini et al. 2021), negated."""
    return -s.mean_nll / len(zlib.compress(s.text.encode()))


def min_k_score(s: Scored, k: float = MIN_K) -> float:
    """Min-K%: the mean of the lowest k% token log-probabilities."""
    lowest = sorted(s.logprobs)[: max(1, int(len(s.logprobs) * k))]
    return sum(lowest) / len(lowest)


def min_k_plus_plus_score(s: Scored, k: float = MIN_K) -> float:
    """Min-K%++ (Zhang et al. 2024): the same over each token's log-probability standardised by
    the mean and spread of the model's next-token log-probabilities at that position."""
    z = sorted((lp - mu) / max(sd, 1e-6) for lp, mu, sd in zip(s.logprobs, s.means, s.stds))
    lowest = z[: max(1, int(len(z) * k))]
    return sum(lowest) / len(lowest)


ATTACKS = {"loss": loss_score, "zlib": zlib_score, "min_k": min_k_score, "min_k_plus_plus": min_k_plus_plus_score}


def auc(members: list[float], non_members: list[float]) -> float | None:
    """P(member score > non-member score), ties counting half (Mann-Whitney U / n1 n2)."""
    if not members or not non_members:
        return None
    wins = sum((m > n) + 0.5 * (m == n) for m in members for n in non_members)
    return wins / (len(members) * len(non_members))


def auc_interval(a: float, n1: int, n2: int) -> tuple[float, float]:
    """95% interval of an AUC from its sample sizes (Hanley & McNeil's standard error). The error
    is taken at the AUC with one tied pair added, so a perfect 0 or 1 on few answers still gets
    a width instead of claiming certainty."""
    pairs = n1 * n2
    s = (a * pairs + 0.5) / (pairs + 1)
    q1, q2 = s / (2 - s), 2 * s * s / (1 + s)
    se = math.sqrt(max(s * (1 - s) + (n1 - 1) * (q1 - s * s) + (n2 - 1) * (q2 - s * s), 0.0) / pairs)
    return max(0.0, a - Z95 * se), min(1.0, a + Z95 * se)


# --- truth ratio and forget quality -----------------------------------------------------------


def truth_ratio(true: Scored, perturbed: list[Scored]) -> float:
    return sum(p.normalised_likelihood for p in perturbed) / len(perturbed) / true.normalised_likelihood


def ks_p_value(xs: list[float], ys: list[float]) -> float | None:
    """Two-sample Kolmogorov-Smirnov test, asymptotic p-value (with Stephens' small-sample factor)."""
    if not xs or not ys:
        return None
    xs, ys = sorted(xs), sorted(ys)
    d = max(abs(sum(x <= v for x in xs) / len(xs) - sum(y <= v for y in ys) / len(ys)) for v in xs + ys)
    n = len(xs) * len(ys) / (len(xs) + len(ys))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 1e-3:
        return 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(max(p, 0.0), 1.0)


@dataclass(frozen=True)
class Question:
    """One (photo, question): the person's true answer and its perturbed versions, scored."""

    true: Scored
    perturbed: tuple[Scored, ...]


def knowledge(questions: list[Question]) -> dict:
    """The knowledge tests over a person's questions on one split of photos (numbers only)."""
    usable = [q for q in questions if q.perturbed]
    if not questions:
        return {"knowledge_measured": False, "knowledge_note": "the base model revealed nothing on these photos to test"}
    if not usable:
        return {"knowledge_measured": False,
                "knowledge_note": "no perturbed answer could be built (no other person's answers to take facts from: pass --retain)"}
    ratios = [truth_ratio(q.true, list(q.perturbed)) for q in usable]
    # None of the perturbed answers is true: each against the others is what not knowing looks like.
    unknown = [truth_ratio(p, [o for o in q.perturbed if o is not p]) for q in usable if len(q.perturbed) > 1 for p in q.perturbed]
    members = [q.true for q in usable]
    non_members = [p for q in usable for p in q.perturbed]
    out = {
        "knowledge_measured": True, "members": len(members), "non_members": len(non_members),
        "truth_ratio": sum(ratios) / len(ratios),
        "forget_quality": ks_p_value(ratios, unknown), "forget_quality_population": len(unknown),
    }
    for name, score in ATTACKS.items():
        value = auc([score(m) for m in members], [score(n) for n in non_members])
        low, high = auc_interval(value, len(members), len(non_members))
        out[f"mia_auc_{name}"], out[f"mia_auc_{name}_interval"] = value, [round(low, 3), round(high, 3)]
    return out
