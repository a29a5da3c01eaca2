"""ROUGE-L (LCS-based F-measure, Lin 2004) on case-folded words, as VGID reports it, and ROUGE-N
(n-gram overlap F-measure), as MLLMU-Bench reports ROUGE-1 and ROUGE-2. No stemming: rouge_score's
Porter stemmer, which the benchmarks use, can only raise a score (docs/benchmarks.md)."""

from collections import Counter

from forgetctl.evaluation.text import terms as tokens


def lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    c, r = tokens(candidate), tokens(reference)
    return f_measure(lcs_length(c, r), len(c), len(r)) if c and r else 0.0


def f_measure(overlap: int, candidate: int, reference: int) -> float:
    if not overlap:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


def ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def rouge_n(candidate: str, reference: str, n: int) -> float:
    c, r = ngrams(tokens(candidate), n), ngrams(tokens(reference), n)
    return f_measure(sum((c & r).values()), sum(c.values()), sum(r.values()))


def mean_rouge_l(candidates: list[str], references: list[str]) -> float:
    if len(candidates) != len(references):
        raise ValueError("candidates and references must pair up")
    return sum(map(rouge_l, candidates, references)) / len(candidates) if candidates else 0.0
