"""Sentence BLEU (Papineni et al. 2002) as MLLMU-Bench and UMU-Bench compute it: whitespace
tokens, one reference, up to 4-grams weighted equally, the brevity penalty, and NLTK's smoothing
"method1" (a zero n-gram count becomes 0.1 over the candidate's n-gram count, at least 1)."""

import math

from forgetctl.evaluation.rouge import ngrams

EPSILON = 0.1  # NLTK SmoothingFunction().method1's default


def sentence_bleu(reference: str, candidate: str, max_n: int = 4) -> float:
    ref, hyp = reference.split(), candidate.split()
    if not hyp or not ref:
        return 0.0
    logs = []
    for n in range(1, max_n + 1):
        hyp_grams = ngrams(hyp, n)
        total = max(1, sum(hyp_grams.values()))  # NLTK's denominator: a candidate shorter than n words counts 0/1
        clipped = sum((hyp_grams & ngrams(ref, n)).values())
        if clipped == 0 and n == 1:
            return 0.0  # nothing in common: NLTK returns 0 before smoothing
        logs.append(math.log((clipped or EPSILON) / total))
    penalty = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return penalty * math.exp(sum(logs) / max_n)
