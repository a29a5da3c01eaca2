"""ROUGE-L (LCS-based F-measure, Lin 2004) on case-folded words, as VGID reports it."""

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
    if not c or not r:
        return 0.0
    lcs = lcs_length(c, r)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(c), lcs / len(r)
    return 2 * precision * recall / (precision + recall)


def mean_rouge_l(candidates: list[str], references: list[str]) -> float:
    if len(candidates) != len(references):
        raise ValueError("candidates and references must pair up")
    return sum(map(rouge_l, candidates, references)) / len(candidates) if candidates else 0.0
