"""Before/after numbers for one erase run, per person and per split (seen / unseen views)."""

from __future__ import annotations

from forgetctl.evaluation.detectors import is_degenerate, is_refusal, leaked_facts
from forgetctl.evaluation.rouge import mean_rouge_l


def answer_rates(answers: list[str], name: str) -> dict[str, float]:
    n = max(len(answers), 1)
    return {
        "name_leak_rate": sum(bool(leaked_facts(a, name, {})) for a in answers) / n,
        "refusal_rate": sum(is_refusal(a) for a in answers) / n,
        "degenerate_rate": sum(is_degenerate(a) for a in answers) / n,
    }


def summarize(forget: dict, retain: list) -> dict:
    """forget: entity -> split -> probes; retain: probes. ROUGE-L compares after with before."""
    out = {"forget": {}, "retain": {}}
    for name, splits in forget.items():
        for split, probes in splits.items():
            if not probes:
                continue
            before = [a for p in probes for a in p.before]
            after = [a for p in probes for a in p.after]
            out["forget"].setdefault(name, {})[split] = {
                "answers": len(after), "rouge_l_vs_before": mean_rouge_l(after, before), **answer_rates(after, name),
            }
    before = [a for p in retain for a in p.before]
    after = [a for p in retain for a in p.after]
    retain_rouge = mean_rouge_l(after, before) if after else None
    out["retain"] = {
        "answers": len(after),
        "rouge_l_vs_before": retain_rouge,
        "rouge_l_drop": None if retain_rouge is None else 1.0 - retain_rouge,
    }
    return out
