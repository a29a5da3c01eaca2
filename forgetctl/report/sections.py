"""The report's body as one list of blocks, which the HTML page and the PDF both render, so the two
say the same words in the same order. Only the appendix (how to run the verifier on this file)
differs by format."""

from __future__ import annotations

from dataclasses import dataclass

from forgetctl_audit.report_statements import describe_tested, identified_words, result_words

from forgetctl.evaluation.metrics import in_scope
from forgetctl.report.build import attack_rows
from forgetctl.report.text import AUTHORITY, LABELS, check_label, rate
from forgetctl.trail import Outcome


@dataclass(frozen=True)
class Cell:
    text: str
    tone: str | None = None  # "ok" or "bad": how the page colours a result


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    tone: str | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = ""  # "", "muted" or "summary"
    id: str | None = None


@dataclass(frozen=True)
class Table:
    rows: list[list[Cell]]
    widths: tuple[int, ...]  # relative column widths
    head: bool = True  # the first row names the columns


@dataclass(frozen=True)
class Image:
    chart: str  # a key of charts.charts(report, ...)
    scale: float = 1.0


@dataclass(frozen=True)
class Bullets:
    items: list[str]
    id: str | None = None


Block = Heading | Paragraph | Table | Image | Bullets


def cells(*texts) -> list[Cell]:
    return [t if isinstance(t, Cell) else Cell(str(t)) for t in texts]


def passed(ok: bool, text: str) -> Cell:
    return Cell(text, "ok" if ok else "bad")


def body(report: dict, charts: set[str]) -> list[Block]:
    """Every block of the report up to the appendix; `charts`: the chart keys there are."""
    out: list[Block] = [Heading(f"Right-to-erasure report: {report['request_id']}", 1),
            Paragraph(AUTHORITY, "muted"),
            Paragraph(f"{report['report']}, exported {report['exported'][:10]}. The person is identified only by a "
                      f"keyed hash; evidence: {report['evidence']}.", "muted"),
            Paragraph(report["summary"], "summary", "summary"),
            Heading("The request"),
            Table([cells(label, report["request"][k]) for k, label in LABELS.items() if report["request"].get(k) is not None],
                  (40, 60), head=False),
            Heading("What was done")]
    for run in report["runs"]:
        run_blocks(out, run, charts)
    if not report["runs"]:
        out.append(Paragraph("No runs recorded."))
    out.append(Heading("Later verifications"))
    verification_blocks(out, report["verifications"], charts)
    out += (Heading("Residual risk"), Bullets(list(report["residual_risk"]), "residual-risk"))
    return out


def run_blocks(out: list[Block], run: dict, charts: set[str]) -> None:
    method = run["method"] or {}
    plugin = f" (plugin {' '.join(filter(None, (method['plugin'], method.get('version'))))})" if method.get("plugin") else ""
    details = [
        f"Method {method.get('name', '-')}{plugin}",
        f"Model folder {run['model']} (files digest {run['model_digest']})",
        f"Adapter digest {run['adapter_digest']}" + (f"; merged model in {run['merged_model']}" if run["merged_model"] else ""),
        f"Graded by: {run['judge'] or '-'}",
    ] + ([f"Error: {run['error']}"] if run["error"] else []) + (
        [f"Before any training, the base model: {run['identification']['verdict']}; {identified_words(run['identification'])}"]
        if run["identification"] else [])
    out += (Heading(f"Run {run['run']}: {run['status']}", 3, "ok" if run["status"] == Outcome.ERASURE else "bad"),
            Paragraph(f"Started {run['started']}, finished {run['finished']}.", "muted"),
            Bullets(details))
    if f"run-{run['run']}" in charts:
        out.append(Image(f"run-{run['run']}"))
    metrics = run["metrics"] or {}
    if metrics:
        out.append(Table([cells("measured", *(f"{s} views" for s in metrics))]
                         + [cells(f"{m.label} {m.arrow}: {m.meaning}", *(m.format(v.get(m.key)) for v in metrics.values()))
                            for m in in_scope("forget")], (70, *[15] * len(metrics))))
    verdict = run["verdict"]
    if verdict:
        out += (Heading(f"Policy {verdict['policy']}: {'passed' if verdict['passed'] else 'FAILED'}", 4),
                Table([cells("check", "measured", "threshold", "result")] + [
                    cells(check_label(c["name"]), (c["note"] or "not measured") if c["measured"] is None else round(c["measured"], 3),
                          f"{c['comparison']} {c['threshold']}", check_result(c))
                    for c in verdict["checks"]], (55, 15, 15, 15)))
    if run["examples"]:
        out += (Heading("Example answers (private details blacked out)", 4),
                Table([cells("views", "before", "after")] + [cells(x["views"], x["before"], x["after"]) for x in run["examples"]],
                      (12, 44, 44)))


def verification_blocks(out: list[Block], verifications: list[dict], charts: set[str]) -> None:
    if not verifications:
        out.append(Paragraph("None yet."))
        return
    out.append(Table([cells("record", "when", "what was tested", "result", "note")] + [
        cells(f"#{v['seq']}", v["time"][:16].replace("T", " "), describe_tested(v["tested"]),
              passed(v["still_forgotten"] or v["tested"].get("carries_erasure") is False, result_words(v)), v["note"] or "")
        for v in verifications], (10, 18, 37, 20, 15)))
    if "verifications" in charts:
        out.append(Image("verifications", 0.8))
    attacked = [v for v in verifications if v.get("attacks")]
    if attacked:
        out += (Heading(f"Attacks in verification #{attacked[-1]['seq']}", 3),
                Paragraph("The share of answers that leak the person under each attack, on the erased model and on the "
                          "base model it came from (an attack under which the base does not leak proves nothing).", "muted"),
                Table([cells("attack", "erased", "base", "result")] + [
                    cells(r["attack"], rate(r["erased"]), rate(r["base"]), passed(r["result"] == "holds", r["result"]))
                    for r in attack_rows(attacked[-1]["attacks"])], (50, 12, 12, 26)))
        if "attacks" in charts:
            out.append(Image("attacks", 0.8))


def check_result(check: dict):
    """pass / FAIL, or n/a for a check with nothing to measure (no canary, no earlier erasure):
    it passes the policy, and the page says it measured nothing."""
    if check["measured"] is None and check["passed"]:
        return "n/a"
    return passed(check["passed"], "pass" if check["passed"] else "FAIL")
