"""A request's report for a DPO or an auditor: JSON, a self-contained HTML page, or a PDF.

A report never holds personal data in plaintext: example answers pass through `redact`, which
keeps only the words of the base model's own descriptions of the person's photos (what anyone
sees in them) and of the tool's refusals, less the person's name and private words, and blacks
out every other word, in any script (names, places, years, awards, professions).

Everything a report states is derived from signed records by the auditor's own script
(forgetctl_audit/standalone_verify.py: `statements`), which this module calls, so the two can
never disagree. Exporting signs an export record that lists every record of the request and
carries the redacted examples; the records, their inclusion proofs, the key chain and a fresh
signed tree head travel with the report, so an auditor checks it, complete, with the root
fingerprint they pinned, without trusting this machine.
"""

from __future__ import annotations

import base64
import html
import json
import re
from importlib.resources import files
from pathlib import Path

from forgetctl_audit.standalone_verify import (
    EXPORT, describe_tested, digest, identified_words, request_state, result_words, statements,
)
from forgetctl_audit.store import AuditLog

from forgetctl.errors import AuditError
from forgetctl.evaluation.grounding import name_parts
from forgetctl.evaluation.metrics import by_check, in_scope
from forgetctl.lineage import Lineage
from forgetctl.prompts import REFUSALS
from forgetctl.trail import Outcome

REDACTED = "█████"
# What the first lines of every rendering say: the auditor's script checks the data, not the page.
AUTHORITY = ("Only the printout of standalone_verify.py (see the appendix) is authoritative: it derives every "
             "statement from the signed records and checks the summary and residual risk this page shows; the "
             "rest of this page is a rendering it does not check.")
WORD_OR_NUMBER = re.compile(r"\w[\w'’-]*")


def visible_words(probes: dict, private: dict | None, subject: str | None) -> set[str]:
    """The words a report may show for a request: those of the base model's own descriptions of
    the person's photos (what anyone sees in them, in the model's words) and of the tool's own
    refusals; never a part of the person's name or one of their private words. No list of any
    world's words: the run's descriptions decide, as they do for grading."""
    words = {w.casefold() for w in WORD_OR_NUMBER.findall(" ".join(
        [item.get("reference", "") for items in probes.values() for item in items] + list(REFUSALS)))}
    return words - {w.casefold() for w in (private or {})} - name_parts(subject)


def redact(text: str, allowed: set[str]) -> str:
    """Black out every word not in `allowed` (any word with a letter outside it, in any script),
    and every capitalised allowed word that does not start a sentence (a title, "the Red ... Cup"):
    what remains cannot identify anyone."""
    def keep(match):
        word, start = match.group(0), match.start()
        sentence_start = not text[:start].strip() or text[:start].rstrip()[-1] in ".!?"
        shown = word.casefold() in allowed and (word.islower() or sentence_start or word == "I")
        return word if shown else REDACTED

    return WORD_OR_NUMBER.sub(keep, text)


# --- building -------------------------------------------------------------------------------


def build_report(log: AuditLog, request_id: str, old_head: dict | None = None) -> dict:
    """Sign an export record listing every record of the request (with the redacted examples,
    made from its encrypted evidence), then derive the report from the signed records exactly
    as the auditor's script will, with the proofs. Refuses (AuditError) when the log does not
    verify: no report is signed over tampering."""
    records = log.records(request_id)
    if not records:
        raise AuditError(f"no request {request_id} in the audit log")
    checked = log.verify()
    if not checked.ok:
        raise AuditError(f"the log does not verify ({checked.problems[0]}); refusing to export a report over it")
    state = request_state(records)
    examples_by_run = {}
    for run_id, run_records in state["runs"].items():
        outcome = next((r for r in run_records if r["kind"] in set(Outcome)), None)
        if outcome and outcome["body"].get("manifest"):
            examples_by_run[run_id] = examples(log, request_id, outcome)
    log.append(EXPORT, request_id, {
        "records": [r["seq"] for r in records], "examples": examples_by_run,
        "evidence_unreadable": None if state["shredded"] else evidence_problem(log, request_id, records),
        "still_holding": still_holding(Lineage.from_records(log.records()), request_id, state),
    })
    records = log.records(request_id)
    bundle = log.proofs([k["seq"] for k in log.key_records()] + [r["seq"] for r in records], old_head)
    return {**statements(request_id, records, log.root_fingerprint()), "records": records, "bundle": bundle}


def still_holding(lineage: Lineage, request_id: str, state: dict) -> list[dict]:
    """The models that still hold the person: the original base of each lineage whose releases
    carry the erasure, and every version of it that does not (older releases, forks), named by
    version and folder name (a report names no machine path)."""
    roots = {v.root for v in lineage.versions.values() if request_id in v.erased}
    holding = []
    for root in sorted(roots):
        holding.append({"what": "original base", "version": root, "folder": Path(lineage.roots[root]).name})
        holding += [{"what": "release", "version": v.version, "folder": Path(v.path).name}
                    for v in lineage.releases(root) if request_id not in v.erased]
    if not roots and any(r["kind"] == Outcome.ERASURE for rs in state["runs"].values() for r in rs):
        holding.append({"what": "the model the erasure ran on (no release carries the erasure; only its adapter does)",
                        "version": next(digest_of_run(rs) for rs in state["runs"].values()
                                        if any(r["kind"] == Outcome.ERASURE for r in rs)), "folder": None})
    return holding


def digest_of_run(run_records: list[dict]) -> str:
    outcome = next(r for r in run_records if r["kind"] == Outcome.ERASURE)
    return digest((outcome["body"].get("manifest") or {}).get("base_model", {}).get("files"))


def _evidence_value(log: AuditLog, request_id: str, record: dict, name: str):
    item = next((i for i in record.get("evidence", []) if i["id"].endswith(f":{name}")), None)
    try:
        return log.evidence(request_id, item["id"]) if item else None
    except AuditError:
        return None


def evidence_problem(log: AuditLog, request_id: str, records: list[dict]) -> str | None:
    """Why the request's evidence cannot be read on this machine, or None."""
    first = next((i["id"] for r in records for i in r["evidence"]), None)
    if first is None:
        return None
    try:
        log.evidence(request_id, first)
    except AuditError as exc:
        return str(exc)
    return None


def attack_rows(attacks: dict) -> list[dict]:
    """Per attack: worst leak on the erased model and on the base, and what that shows."""
    rows = []
    for key, a in attacks.items():
        def worst(rates):
            values = [v for v in (rates or {}).values() if v is not None]
            return max(values) if values else None

        erased, base = worst(a.get("erased")), worst(a.get("base"))
        result = ("not run: " + a["not_run"] if "not_run" in a else "tests nothing (the base does not leak either)"
                  if a.get("tests_nothing") else "holds" if not erased else "LEAKS")
        rows.append({"attack": a["label"], "erased": erased, "base": base, "result": result})
    return rows


def examples(log: AuditLog, request_id: str, record: dict, limit: int = 3) -> list[dict]:
    probes = _evidence_value(log, request_id, record, "probes")
    if probes is None:
        return []
    allowed = visible_words(probes, _evidence_value(log, request_id, record, "private_terms"),
                            _evidence_value(log, request_id, record, "subject"))
    return [
        {"views": split, "before": redact(item["before"][0], allowed), "after": redact(item["after"][0], allowed)}
        for split, items in probes.items() for item in items[:limit]
    ]


# --- charts ---------------------------------------------------------------------------------


def charts(report: dict, fmt: str) -> dict[str, bytes]:
    """The report's charts as SVG (for HTML) or PNG (for PDF): leaks before and after and
    informativeness per view split, the training loss, and the verifications over time."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def save(fig) -> bytes:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return buffer.getvalue()

    out = {}
    for run in report["runs"]:
        metrics = run["metrics"]
        if not metrics:
            continue
        fig, (leaks, inform, loss) = plt.subplots(1, 3, figsize=(9.5, 2.6))
        splits = list(metrics)
        x = range(len(splits))
        for offset, key, label, colour in ((-0.2, "leak_rate_before", "before", "#c0504d"), (0.2, "leak_rate", "after", "#4f81bd")):
            values = [metrics[s].get(key) or 0 for s in splits]
            bars = leaks.bar([i + offset for i in x], values, 0.4, label=label, color=colour)
            leaks.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=7)
        leaks.set_xticks(list(x), [f"{s} views" for s in splits])
        leaks.set_ylim(0, 1.05)
        leaks.set_title("answers that leak the person", fontsize=9)
        leaks.legend(fontsize=8)
        inform.bar(list(x), [metrics[s].get("judge_informativeness") or 0 for s in splits], 0.5, color="#4f81bd")
        inform.set_xticks(list(x), [f"{s} views" for s in splits])
        inform.set_ylim(0, 5.2)
        inform.axhline(5, color="#999", lw=0.5)
        inform.set_title("informativeness after (1-5)", fontsize=9)
        loss.plot(range(1, len(run["losses"]) + 1), run["losses"], color="#4f81bd")
        loss.set_title("training loss per step", fontsize=9)
        loss.set_xlabel("step", fontsize=8)
        out[f"run-{run['run']}"] = save(fig)
    attacked = [v for v in report["verifications"] if v.get("attacks")]
    if attacked:
        rows = attack_rows(attacked[-1]["attacks"])
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 0.9))
        y = range(len(rows))
        ax.barh([i + 0.2 for i in y], [r["base"] or 0 for r in rows], 0.4, color="#c0504d", label="base model")
        ax.barh([i - 0.2 for i in y], [r["erased"] or 0 for r in rows], 0.4, color="#4f81bd", label="erased model")
        # Long labels keep their end, where the variant (steps, rate, bits) tells rows apart.
        ax.set_yticks(list(y), [a if len(a) <= 48 else f"{a[:20]}…{a[-27:]}" for a in (r["attack"] for r in rows)], fontsize=7)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_title("latest attacks: share of answers that leak the person", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        out["attacks"] = save(fig)
    if report["verifications"]:
        fig, ax = plt.subplots(figsize=(6.5, 2.2))
        times = [v["time"][:16].replace("T", " ") for v in report["verifications"]]
        leaks = [max(m.get("leak_rate", m.get("name_leak_rate", 0)) for m in v["metrics"].values()) for v in report["verifications"]]
        colours = ["#4f81bd" if v["still_forgotten"] else "#c0504d" for v in report["verifications"]]
        ax.scatter(range(len(times)), leaks, c=colours, zorder=3)
        ax.plot(range(len(times)), leaks, color="#bbb", zorder=2)
        ax.set_xticks(range(len(times)), times, rotation=20, fontsize=7, ha="right")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title("verifications over time: worst leak rate (red: identifiable again)", fontsize=9)
        out["verifications"] = save(fig)
    return out


# --- rendering ------------------------------------------------------------------------------

LABELS = {  # in the order a reader wants them
    "received": "Received", "deadline": "Deadline (Art. 12(3), one month)",
    "latest_extended_deadline": "Latest extended deadline (Art. 12(3), plus two months)",
    "grounds": "Grounds",
    "subject": "Person (keyed hash only)",
}


def check_label(name: str) -> str:
    metric = by_check().get(name)
    return f"{metric.label}: {metric.meaning}" if metric else name.replace("_", " ")


def render(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    return render_html(report)


def render_html(report: dict) -> str:
    e = html.escape
    images = {k: v.decode() for k, v in charts(report, "svg").items()}
    request = report["request"]
    request_rows = "".join(
        f"<tr><th>{e(label)}</th><td>{e(str(request[k]))}</td></tr>" for k, label in LABELS.items() if request.get(k) is not None
    )
    sections = [run_section(run, images.get(f"run-{run['run']}")) for run in report["runs"]]
    verification_rows = "".join(
        f"<tr><td>#{v['seq']}</td><td>{e(v['time'][:16].replace('T', ' '))}</td><td>{e(describe_tested(v['tested']))}</td>"
        f"<td class='{'ok' if v['still_forgotten'] or v['tested'].get('carries_erasure') is False else 'bad'}'>{result_words(v)}</td>"
        f"<td>{e(v['note'] or '')}</td></tr>"
        for v in report["verifications"]
    )
    verifications = (
        "<table><tr><th>record</th><th>when</th><th>what was tested</th><th>result</th><th>note</th></tr>"
        f"{verification_rows}</table>{images.get('verifications', '')}" if report["verifications"] else "<p>None yet.</p>"
    )
    attacked = [v for v in report["verifications"] if v.get("attacks")]
    if attacked:
        rows = "".join(
            f"<tr><td>{e(r['attack'])}</td><td>{_rate(r['erased'])}</td><td>{_rate(r['base'])}</td>"
            f"<td class='{'ok' if r['result'] == 'holds' else 'bad'}'>{e(r['result'])}</td></tr>"
            for r in attack_rows(attacked[-1]["attacks"])
        )
        verifications += (
            f"<h3>Attacks in verification #{attacked[-1]['seq']}</h3><p class='muted'>The share of answers that leak the "
            "person under each attack, on the erased model and on the base model it came from (an attack under which the "
            "base does not leak proves nothing).</p><table><tr><th style='width:50%'>attack</th><th>erased</th><th>base</th>"
            f"<th>result</th></tr>{rows}</table>{images.get('attacks', '')}"
        )
    risks = "".join(f"<li>{e(r)}</li>" for r in report["residual_risk"])
    key_rows = "".join(
        f"<tr><td>#{r['seq']}</td><td><code>{e(r['body']['key_id'])}</code></td><td>{'root' if r['body']['replaces'] is None else 'replaces ' + e(r['body']['replaces'])}</td></tr>"
        for r in map(decode_payload, report["bundle"]["records"]) if r["kind"] == "key"
    )
    standalone = (files("forgetctl_audit") / "standalone_verify.py").read_text()
    embedded = json.dumps(report, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Erasure report {e(report['request_id'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; table-layout: fixed; }}
td, th {{ border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #f4f4f4; font-weight: 600; }}
pre {{ background: #f4f4f4; padding: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .75rem; }}
h1 {{ font-size: 1.5rem; margin-bottom: .2rem; }} .muted {{ color: #666; }} .summary {{ font-size: 1.1rem; background: #eef3fa; padding: .8rem 1rem; border-left: 4px solid #4f81bd; }}
.ok {{ color: #1e7b34; font-weight: 600; }} .bad {{ color: #b3261e; font-weight: 600; }} svg {{ max-width: 100%; height: auto; }}
.appendix {{ border-top: 2px solid #ccc; margin-top: 3rem; }}
@media print {{ .appendix pre {{ font-size: .6rem; }} }}
</style></head><body>
<h1>Right-to-erasure report: {e(report['request_id'])}</h1>
<p class="muted"><b>{e(AUTHORITY)}</b></p>
<p class="muted">{e(report['report'])}, exported {e(report['exported'][:10])}. The person is identified only by a keyed hash; evidence: {e(report['evidence'])}.</p>
<p class="summary" id="summary">{e(report['summary'])}</p>
<h2>The request</h2><table>{request_rows}</table>
<h2>What was done</h2>{''.join(sections) or '<p>No runs recorded.</p>'}
<h2>Later verifications</h2>{verifications}
<h2>Residual risk</h2><ul id="residual-risk">{risks}</ul>
<section class="appendix"><h2>Appendix: verify this report yourself</h2>
<ol><li>Get the log's <b>root fingerprint</b> from the controller out of band, and keep it.</li>
<li>Save this page as <code>report.html</code> and the script below as <code>standalone_verify.py</code>.</li>
<li>Run <code>python standalone_verify.py report.html --pin FINGERPRINT</code> (add <code>--since OLD_HEAD.json</code> with a tree head you
received earlier). It needs only the <code>cryptography</code> package, checks every record below against the key chain from your
pinned root, its place in the signed tree, and that this report states exactly what the signed records say; then it prints those facts.</li></ol>
<p>The root fingerprint this report claims: <code>{e(str(report['root_fingerprint']))}</code> (compare it with yours; never trust it from here).</p>
<h3>Key chain</h3><table><tr><th>record</th><th>key id</th><th>role</th></tr>{key_rows}</table>
<h3>standalone_verify.py</h3><pre>{e(standalone)}</pre>
<h3>Signed records, proofs and tree head (JSON)</h3><pre>{e(json.dumps(report['bundle'], indent=1))}</pre>
</section>
<script type="application/json" id="forgetctl-report">{embedded}</script>
</body></html>
"""


def _rate(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def decode_payload(item: dict) -> dict:
    return json.loads(base64.b64decode(item["envelope"]["payload"]))


def run_section(run: dict, chart: str | None) -> str:
    e = html.escape
    method = run["method"] or {}
    status = run["status"]
    badge = "ok" if status == Outcome.ERASURE else "bad"
    details = [
        f"Method <b>{e(str(method.get('name', '-')))}</b>" + (f" (plugin {e(method['plugin'])} {e(method.get('version', ''))})" if method.get("plugin") else ""),
        f"Model folder <code>{e(str(run['model']))}</code> (files digest <code>{run['model_digest']}</code>)",
        f"Adapter digest <code>{run['adapter_digest']}</code>" + (f"; merged model in {e(run['merged_model'])}" if run["merged_model"] else ""),
        f"Graded by: {e(run['judge'] or '-')}",
    ] + ([f"Error: {e(run['error'])}"] if run["error"] else []) + (
        [f"Before any training, the base model: {e(run['identification']['verdict'])}; {e(identified_words(run['identification']))}"]
        if run["identification"] else [])
    metrics = run["metrics"] or {}
    metric_rows = "".join(
        f"<tr><td>{e(m.label)} {m.arrow}<br><span class='muted'>{e(m.meaning)}</span></td>"
        + "".join(f"<td>{e(m.format(split.get(m.key)))}</td>" for split in metrics.values()) + "</tr>"
        for m in in_scope("forget")
    )
    metric_table = (
        "<table><tr><th style='width:55%'>measured</th>" + "".join(f"<th>{e(s)} views</th>" for s in metrics) + "</tr>"
        + metric_rows + "</table>" if metrics else ""
    )
    verdict = run["verdict"]
    checks = "".join(
        f"<tr><td>{e(check_label(c['name']))}</td><td>{e(c['note'] or 'not measured') if c['measured'] is None else round(c['measured'], 3)}</td>"
        f"<td>{e(c['comparison'])} {c['threshold']}</td><td class='{'ok' if c['passed'] else 'bad'}'>{'pass' if c['passed'] else 'FAIL'}</td></tr>"
        for c in (verdict or {}).get("checks", [])
    )
    policy = (
        f"<h4>Policy {e(verdict['policy'])}: {'passed' if verdict['passed'] else 'FAILED'}</h4>"
        "<table><tr><th style='width:55%'>check</th><th>measured</th><th>threshold</th><th>result</th></tr>" + checks + "</table>"
        if verdict else ""
    )
    example_rows = "".join(
        f"<tr><td>{e(x['views'])}</td><td>{e(x['before'])}</td><td>{e(x['after'])}</td></tr>" for x in run["examples"]
    )
    example_table = (
        "<h4>Example answers (private details blacked out)</h4><table><tr><th style='width:12%'>views</th><th>before</th><th>after</th></tr>"
        + example_rows + "</table>" if example_rows else ""
    )
    return f"""<section><h3>Run {e(run['run'])}: <span class="{badge}">{e(status)}</span></h3>
<p class="muted">Started {e(str(run['started']))}, finished {e(str(run['finished']))}.</p>
<ul>{''.join(f'<li>{d}</li>' for d in details)}</ul>
{chart or ''}{metric_table}{policy}{example_table}</section>"""


def render_pdf(report: dict) -> bytes:
    """The same report as a PDF (fpdf2), with the machine-readable report attached as a file so
    standalone_verify.py can check it (save the attachment, pass it as REPORT.json)."""
    import os

    import matplotlib
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fonts = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", os.path.join(fonts, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(fonts, "DejaVuSans-Bold.ttf"))
    pdf.add_font("Mono", "", os.path.join(fonts, "DejaVuSansMono.ttf"))
    pdf.set_title(f"Erasure report {report['request_id']}")
    pdf.add_page()
    width = pdf.epw
    header = FontFace(emphasis="BOLD", fill_color=(240, 240, 240))

    def heading(text, size=13):
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(width, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def paragraph(text, size=9):
        pdf.set_font("DejaVu", "", size)
        pdf.multi_cell(width, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def table(rows, widths=None, head=True):
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=widths, headings_style=header, first_row_as_headings=head, line_height=4.5, text_align="LEFT") as t:
            for row in rows:
                t.row([str(cell) for cell in row])
        pdf.ln(2)

    images = charts(report, "png")
    heading(f"Right-to-erasure report: {report['request_id']}", 15)
    paragraph(AUTHORITY.replace("(see the appendix)", "(attached to this PDF)"), 8)
    paragraph(f"{report['report']}, exported {report['exported'][:10]}. The person is identified only by a keyed hash; "
              f"evidence: {report['evidence']}.", 8)
    pdf.set_fill_color(238, 243, 250)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width, 5.5, report["summary"], fill=True, align="L", new_x="LMARGIN", new_y="NEXT")
    heading("The request")
    table([[label, report["request"][k]] for k, label in LABELS.items() if report["request"].get(k) is not None], (40, 60), head=False)
    heading("What was done")
    for run in report["runs"]:
        method = run["method"] or {}
        heading(f"Run {run['run']}: {run['status']}", 11)
        paragraph(f"Method {method.get('name', '-')} ({method.get('plugin', '-')} {method.get('version', '')}); "
                  f"model {run['model']} (digest {run['model_digest']}); adapter digest {run['adapter_digest']}; "
                  f"graded by {run['judge'] or '-'}. Started {run['started']}, finished {run['finished']}.", 8)
        if run["identification"]:
            paragraph(f"Before any training, the base model: {run['identification']['verdict']}; "
                      f"{identified_words(run['identification'])}.", 8)
        if f"run-{run['run']}" in images:
            pdf.image(images[f"run-{run['run']}"], w=width)
        metrics = run["metrics"] or {}
        if metrics:
            table([["measured", *(f"{s} views" for s in metrics)]]
                  + [[f"{m.label} {m.arrow}: {m.meaning}", *(m.format(v.get(m.key)) for v in metrics.values())] for m in in_scope("forget")],
                  (70, *[15] * len(metrics)))
        if run["verdict"]:
            paragraph(f"Policy {run['verdict']['policy']}: {'passed' if run['verdict']['passed'] else 'FAILED'}")
            table([["check", "measured", "threshold", "result"]] + [
                [check_label(c["name"]), (c["note"] or "not measured") if c["measured"] is None else round(c["measured"], 3),
                 f"{c['comparison']} {c['threshold']}", "pass" if c["passed"] else "FAIL"] for c in run["verdict"]["checks"]
            ], (60, 15, 15, 10))
        if run["examples"]:
            table([["views", "before", "after"]] + [[x["views"], x["before"], x["after"]] for x in run["examples"]], (10, 45, 45))
    heading("Later verifications")
    if report["verifications"]:
        table([["record", "when", "what was tested", "result"]] + [
            [f"#{v['seq']}", v["time"][:16].replace("T", " "), describe_tested(v["tested"]),
             result_words(v)] for v in report["verifications"]
        ], (10, 20, 50, 20))
        if "verifications" in images:
            pdf.image(images["verifications"], w=width * 0.8)
        attacked = [v for v in report["verifications"] if v.get("attacks")]
        if attacked:
            paragraph(f"Attacks in verification #{attacked[-1]['seq']} (share of answers that leak the person):")
            table([["attack", "erased", "base", "result"]] + [[r["attack"], _rate(r["erased"]), _rate(r["base"]), r["result"]]
                                                            for r in attack_rows(attacked[-1]["attacks"])], (50, 10, 10, 30))
            pdf.image(images["attacks"], w=width * 0.8)
    else:
        paragraph("None yet.")
    heading("Residual risk")
    for note in report["residual_risk"]:
        paragraph(f"• {note}")
    pdf.add_page()
    heading("Appendix: verify this report yourself")
    paragraph("The machine-readable report is attached to this PDF as forgetctl-report.json, and the auditor's script as "
              "standalone_verify.py. Save both, get the log's root fingerprint from the controller out of band, and run: "
              "python standalone_verify.py forgetctl-report.json --pin FINGERPRINT. The script needs only the "
              "cryptography package; what it prints is authoritative, these pages are not checked by it.")
    paragraph(f"The root fingerprint this report claims (compare, never trust): {report['root_fingerprint']}")
    pdf.embed_file(bytes=render(report, "json").encode(), basename="forgetctl-report.json",
                   desc="the signed records, proofs and tree head behind this report")
    pdf.embed_file(bytes=(files("forgetctl_audit") / "standalone_verify.py").read_bytes(), basename="standalone_verify.py",
                   desc="the auditor's verifier: python standalone_verify.py forgetctl-report.json --pin FINGERPRINT")
    return bytes(pdf.output())
