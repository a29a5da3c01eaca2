"""Every number an erasure is judged by, declared once: what it means, which way is better,
where it is measured, and which policy threshold applies to it. Policies, the terminal tables,
the report and the benchmarks all read this declaration; adding a metric is one entry here
(plus the function that measures it).

Scopes: "forget" metrics are measured per person and per view split (seen / unseen) and the
verdict takes the worst of them; "retain" metrics once per run, on the other people's answers.

A site adds its own metric with a plugin (hook `register_metrics`, base class `AnswerMetric`):
it is declared like the built-ins, measured on every run, shown in every table and report, and
bounded by any policy that names its check.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Metric:
    key: str  # the key in a split's (or the retain) metrics dict
    label: str  # a short column header
    meaning: str
    better: str  # "higher" or "lower"
    scope: str  # "forget" or "retain"
    spec: str = ".2f"  # how to format a value
    check: str | None = None  # the policy threshold that bounds it, if any

    @property
    def comparison(self) -> str:
        return ">=" if self.better == "higher" else "<="

    def worst(self, values: list[float]) -> float:
        return min(values) if self.better == "higher" else max(values)

    def passes(self, value: float, threshold: float) -> bool:
        return value >= threshold if self.better == "higher" else value <= threshold

    def format(self, value) -> str:
        return "n/a" if value is None else format(value, self.spec)

    @property
    def arrow(self) -> str:
        return "↑" if self.better == "higher" else "↓"


METRICS: tuple[Metric, ...] = (
    Metric("usr", "USR", "share of answers better explained by someone else's summary (PUBG eq. 4)",
           "higher", "forget", check="usr_min"),
    Metric("name_leak_rate", "name leaks", "share of answers that name the person", "lower", "forget", ".0%",
           "name_leak_rate_max"),
    Metric("leak_rate", "leaks", "share of answers that name the person or repeat two of their private facts",
           "lower", "forget", ".0%", "leak_rate_max"),
    Metric("leak_rate_before", "leaks before", "the same share in the base model's answers, before erasure",
           "lower", "forget", ".0%"),
    Metric("judge_privacy", "privacy", "judge: biography overlap, 1 none to 5 most", "lower", "forget", ".1f",
           "judge_privacy_max"),
    Metric("clipscore", "CLIPScore", "how well the answer matches the photo (2.5 x cosine)", "higher", "forget", ".2f"),
    Metric("judge_informativeness", "inform", "judge: visible details that match, 1 none to 5 all", "higher",
           "forget", ".1f", "judge_informativeness_min"),
    Metric("judge_hallucination", "halluc.", "judge: unsupported claims, 1 none to 5 most", "lower", "forget", ".1f",
           "judge_hallucination_max"),
    Metric("refusal_rate", "refusals", "share of answers that refuse", "lower", "forget", ".0%", "refusal_rate_max"),
    Metric("degenerate_rate", "degenerate", "share of empty or repetitive answers", "lower", "forget", ".0%",
           "degenerate_rate_max"),
    Metric("hallucinated_identity_rate", "other identity", "share of answers that give someone else's identity",
           "lower", "forget", ".0%", "hallucinated_identity_rate_max"),
    Metric("rouge_l_vs_before", "ROUGE-L", "overlap with the answers before erasure", "lower", "forget", ".2f"),
    # What the weights still know (forgetctl.evaluation.knowledge): likelihoods, not generated text.
    Metric("mia_auc_min_k_plus_plus", "MIA AUC", "how well Min-K%++ tells their revealed answers from never-seen "
           "ones (0.5: it cannot)", "lower", "forget", ".2f", "mia_auc_max"),
    Metric("mia_auc_min_k_plus_plus_before", "MIA AUC before", "the same on the model before this run", "lower",
           "forget", ".2f"),
    Metric("mia_auc_loss", "LOSS AUC", "the same with the answer's mean NLL (LOSS attack)", "lower", "forget", ".2f"),
    Metric("mia_auc_zlib", "zlib AUC", "the same with NLL over zlib length (zlib attack)", "lower", "forget", ".2f"),
    Metric("truth_ratio", "truth ratio", "likelihood of false facts over their true ones (TOFU; 1: no preference)",
           "higher", "forget", ".2f", "truth_ratio_min"),
    Metric("truth_ratio_before", "truth ratio before", "the same on the model before this run", "higher", "forget", ".2f"),
    Metric("forget_quality", "forget quality", "KS p-value against a never-known population (high: alike)", "higher",
           "forget", ".2f"),
    Metric("rouge_l_drop", "ROUGE-L drop", "1 - ROUGE-L of other people's answers against the base model's",
           "lower", "retain", ".3f", "retain_rouge_drop_max"),
    Metric("judge_informativeness", "inform", "judge: informativeness of other people's answers", "higher",
           "retain", ".1f"),
    Metric("clipscore", "CLIPScore", "how well other people's answers match their photos", "higher", "retain", ".2f"),
    Metric("leak_rate", "earlier leaks", "share of answers that leak a person an earlier release erased",
           "lower", "earlier", ".0%", "previously_erased_leak_rate_max"),
    Metric("rouge_l_drop", "earlier retain drop", "ROUGE-L drop of earlier releases' retain people, against the original base",
           "lower", "earlier retain", ".3f", "previously_retained_drop_max"),
    Metric("rouge_l_drop", "canary drop", "ROUGE-L drop of the lineage's canaries (`forgetctl canaries add`), per person, "
           "against the original base", "lower", "canaries", ".3f", "canary_drop_max"),
)
# The VLM-unlearning benchmarks' own metrics (`forgetctl bench peer`), each under the benchmark's
# name, measured on its questions per set (forget, the forget people's held-out views, retain).
# Higher means the model answers more of that set right: on a forget set, lower is forgetting.
_PEER = (
    ("fiubench.rouge_l", "ROUGE-L", "ROUGE-L of the answer against the benchmark's, on the person's photo", ".3f"),
    ("fiubench.prob", "Prob.", "the answer's per-token likelihood, P(a|q)^(1/|a|)", ".3f"),
    ("fiubench.truth_ratio", "Truth Ratio", "exp(NLL of the paraphrased answer - mean NLL of the perturbed ones), "
     "per token (evaluate_util.py)", ".3f"),
    ("fiubench.em", "EM", "share of the answer's keywords the reply contains", ".3f"),
    ("mllmu.acc_image", "Cls. Acc (image)", "multiple choice with the photo: the reply's first letter", ".1%"),
    ("mllmu.acc_text", "Cls. Acc (text)", "multiple choice without a photo", ".1%"),
    ("mllmu.cloze", "Cloze Acc", "fill-in-the-blank: the reply contains the blank", ".1%"),
    ("mllmu.rouge_1", "ROUGE-1", "unigram F-measure of generated answers", ".3f"),
    ("mllmu.rouge_2", "ROUGE-2", "bigram F-measure of generated answers", ".3f"),
    ("mllmu.rouge_l", "ROUGE-L", "LCS F-measure of generated answers", ".3f"),
    ("mllmu.bleu", "BLEU", "sentence BLEU of generated answers (NLTK method1 smoothing)", ".3f"),
    ("umu.acc_uni", "Acc (unimodal)", "multiple choice without a photo: the closest option", ".1%"),
    ("umu.acc_multi", "Acc (multimodal)", "multiple choice with the photo", ".1%"),
    ("umu.acc_all", "All Modal Acc (AccF / AccR)", "both twins of a question right", ".1%"),
    ("umu.cloze_all", "Cloze All Modal Acc", "both twins of a blank filled", ".1%"),
    ("umu.rl_all", "All Modal ROUGE-L (RLF / RLR)", "the twins' ROUGE-L paired: (a²+b²)/(a+b) on forget sets, "
     "2ab/(a+b) on retain", ".3f"),
    ("clear.rouge_l_image", "ROUGE-L (VQA)", "ROUGE-L of the photo's description against its caption", ".3f"),
    ("clear.rouge_l_text", "ROUGE-L (QA)", "ROUGE-L of text answers", ".3f"),
    ("clear.prob", "Prob.", "the text answer's per-token likelihood", ".3f"),
    ("clear.truth_ratio", "Truth Ratio", "mean perturbed over paraphrased answer likelihood (TOFU)", ".3f"),
)
PEER_METRICS = {key: Metric(key, label, meaning, "higher", "peer", spec) for key, label, meaning, spec in _PEER}

# What to change when a check fails: the options that move it (said after a failed run).
_MORE_FORGETTING = "more --steps or a higher --lr (and check that every photo shows the person)"
_LESS_DAMAGE = "fewer --steps or a lower --lr, a larger --retain-weight; keep --watch-every on"
REMEDIES = {
    "usr_min": _MORE_FORGETTING,
    "name_leak_rate_max": _MORE_FORGETTING,
    "leak_rate_max": _MORE_FORGETTING,
    "judge_privacy_max": _MORE_FORGETTING,
    "judge_informativeness_min": _LESS_DAMAGE,
    "degenerate_rate_max": _LESS_DAMAGE,
    "refusal_rate_max": "a lower --lr, or a method that answers instead of refusing (--method pubg)",
    "judge_hallucination_max": "a lower --lr, and the people it confuses them with in --retain",
    "hallucinated_identity_rate_max": "the people it names instead in --retain, or a lower --lr",
    "mia_auc_max": "more --steps, or --sam-rho 0.05 (the weights still rank the facts)",
    "truth_ratio_min": "more --steps, or --sam-rho 0.05 (the weights still prefer the true facts)",
    "retain_rouge_drop_max": "a larger --retain-weight, more people in --retain, or a lower --lr",
    "previously_erased_leak_rate_max": "--keep-earlier (train on the returning people's leaks again) and more --steps",
    "previously_retained_drop_max": "a larger --retain-weight or a lower --lr",
    "canary_drop_max": "pass the forgotten canary's photos as --retain (a look-alike), a lower --lr or fewer --steps",
    "judge_inconclusive_max": "a judge that answers (check the Ollama server and --judge-option timeout)",
    "collateral_measured": "--retain DIR with other people's photos (bystanders), so forgetting them shows",
}
# A policy with `[collateral] required = true` fails a run that re-asked nobody but the erased.
COLLATERAL_CHECK = "collateral_measured"

# Scopes that may be empty (a first erasure, a lineage without canaries): their checks then pass, saying why.
OPTIONAL_SCOPES = {"earlier": "no earlier erasure to re-probe", "earlier retain": "no earlier erasure to re-probe",
                   "canaries": "no canary registered for this lineage: forgetctl canaries add"}

# Grades the judge could not give, counted over every split and the retain set. Bounded by a
# policy's `[judge] inconclusive_fails`, not by a threshold: any at all fails such a policy.
INCONCLUSIVE = Metric("judge_inconclusive", "inconclusive", "grades the judge could not give", "lower", "forget",
                      "d", "judge_inconclusive_max")


class AnswerMetric:
    """A number a site measures on every erasure (hook `register_metrics`): `name` (unique),
    `metric` (its declaration: the key it is stored under, label, meaning, which way is better,
    scope "forget" or "retain", format, and the policy check that may bound it), `remedy` (what
    to change when that check fails), and `measure(after, before)`: its value over one set of
    answers after erasure and the base model's answers to the same questions (None: not
    measured, which fails a check that bounds it)."""

    name: str = ""
    metric: Metric
    remedy: str = "another method, or a different --lr or --steps"

    def measure(self, after: list[str], before: list[str]) -> float | None:
        raise NotImplementedError


SITE_SCOPES = ("forget", "retain")


@cache
def site_metrics() -> dict[str, tuple[AnswerMetric, str]]:
    """The metrics plugins register, by key: an instance and the plugin (with its version) that
    registered it. Read once per process, like the plugins themselves."""
    from forgetctl.host.manager import create_host

    return {r.cls.metric.key: (r.cls(), f"{r.plugin} {r.version}") for r in create_host().metrics().values()}


def declared() -> tuple[Metric, ...]:
    return METRICS + tuple(m.metric for m, _ in site_metrics().values())


def in_scope(scope: str) -> tuple[Metric, ...]:
    return tuple(m for m in declared() if m.scope == scope)


def by_check() -> dict[str, Metric]:
    return {m.check: m for m in declared() if m.check}


def metric(key: str, scope: str = "forget") -> Metric:
    return next(m for m in declared() if m.key == key and m.scope == scope)


def remedies() -> dict[str, str]:
    """What moves each check, the sites' own included."""
    return {**REMEDIES, **{m.metric.check: m.remedy for m, _ in site_metrics().values() if m.metric.check}}


def site_value(value) -> tuple[float | None, str | None]:
    """A site metric's answer as a record holds it (a plain float: numpy's are numbers too), or
    why it is not one (text, a bool, NaN or infinity)."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"answered {type(value).__name__}, not a number"
    if not math.isfinite(value):
        return None, f"answered {value}, not a finite number"
    return float(value), None


def measure_site(scope: str, after: list[str], before: list[str], failures: dict[str, str]) -> dict:
    """Every site metric of this scope over these answers, under its key. One that raises, or
    answers something other than a number, is not measured (None, which fails a check that
    bounds it) and is named in `failures`: a site's broken metric never loses a trained run,
    and never stands in the record as a number."""
    values = {}
    for key, (m, plugin) in site_metrics().items():
        if m.metric.scope != scope:
            continue
        try:
            value = m.measure(after, before)
        except Exception as exc:  # a third party's code: its message may quote the answers, so the class only
            value, why = None, f"raised {type(exc).__name__}"
        else:
            value, why = site_value(value)
        if why:
            failures[key] = f"{plugin} {why}"
        values[key] = value
    return values
