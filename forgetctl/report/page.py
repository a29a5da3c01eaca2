"""The report as JSON or as one self-contained HTML page (charts inline, the auditor's script and
the signed records in an appendix, the machine-readable report embedded for standalone_verify.py).
"""

from __future__ import annotations

import html
import json
from importlib.resources import files

from forgetctl_audit.standalone_verify import describe_tested, identified_words, result_words

from forgetctl.evaluation.metrics import in_scope
from forgetctl.report.build import attack_rows
from forgetctl.report.charts import charts
from forgetctl.report.text import AUTHORITY, LABELS, check_label, decode_payload, rate
from forgetctl.trail import Outcome



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
            f"<tr><td>{e(r['attack'])}</td><td>{rate(r['erased'])}</td><td>{rate(r['base'])}</td>"
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
