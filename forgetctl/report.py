"""A request's report for a DPO or an auditor, as JSON or a self-contained HTML page.

Reports never contain personal data in plaintext: example answers pass through `redact`, which
keeps only words from a fixed allow-list of ordinary and visual vocabulary and blacks out the
rest (names, places, years, awards, professions). The verification section carries what a third
party needs to check the record without trusting this machine.
"""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files

from forgetctl.errors import AuditError
from forgetctl.trail import request_states, run_status
from forgetctl_audit.store import AuditLog

ALLOWED_WORDS = set(
    """a an the this that these those is are was were be been being has have had do does did and or
    but of to in on at for with from by about as into over after before under not no yes it its
    they them their he she his her him i me my you your we our person people man woman someone
    photo picture image background front wearing wears with hair shirt glasses hat scarf light dark
    black brown blonde red grey gray white blue green yellow purple orange pink beige cyan describe
    visible appears looks look standing sitting smiling face eyes sorry cannot can't share provide
    information about who identify details private personal unable answer questions rather real
    help i'm i'd won born works work known unknown also""".split()
)
REDACTED = "█████"
OUTCOMES = ("erasure", "run-failed-policy", "run-failed", "run-interrupted")
ATTRIBUTION = "forgetctl audit report"


def redact(text: str) -> str:
    """Black out every word not in the allow-list, and every capitalised allowed word that does
    not start a sentence ("the Blue Heron Prize"): what remains cannot identify anyone."""
    def keep(match):
        word, start = match.group(0), match.start()
        sentence_start = not text[:start].strip() or text[:start].rstrip()[-1] in ".!?"
        allowed = word.lower() in ALLOWED_WORDS and (word.islower() or sentence_start or word == "I")
        return word if allowed else REDACTED

    return re.sub(r"[A-Za-z0-9][A-Za-z0-9'’-]*", keep, text)


def build_report(log: AuditLog, request_id: str, public_keys_pem: str) -> dict:
    states = request_states(log)
    if request_id not in states:
        raise AuditError(f"no request {request_id} in the audit log")
    state = states[request_id]
    records = log.records(request_id)
    runs = []
    for run_id, run_records in state["runs"].items():
        outcome = next((r for r in run_records if r["kind"] in OUTCOMES), None)
        started = next((r for r in run_records if r["kind"] == "run-started"), None)
        runs.append({
            "run": run_id,
            "status": run_status(run_records),
            "started": started["time"] if started else None,
            "plan": started["body"] if started else None,
            "outcome_record": outcome["seq"] if outcome else None,
            "metrics": outcome["body"].get("metrics", {}).get(request_id) if outcome else None,
            "retain_metrics": outcome["body"].get("retain_metrics") if outcome else None,
            "method": outcome["body"]["manifest"]["method"] if outcome and "manifest" in outcome["body"] else None,
            "verdict": outcome["body"].get("verdict") if outcome else None,
            "judge": outcome["body"].get("judge") if outcome else None,
            "examples": _examples(log, request_id, outcome) if outcome and "manifest" in outcome["body"] else [],
        })
    verifications = [
        {"seq": r["seq"], "time": r["time"], "still_forgotten": r["body"]["still_forgotten"], "metrics": r["body"]["metrics"]}
        for r in records if r["kind"] == "verification"
    ]
    erasure_seqs = [run["outcome_record"] for run in runs if run["status"] == "erasure"]
    anchor = erasure_seqs[-1] if erasure_seqs else records[-1]["seq"]
    return {
        "report": ATTRIBUTION,
        "request": {"id": request_id, **(state["request"]["body"] if state["request"] else {})},
        "evidence": "shredded (data key destroyed)" if state["shredded"] else "encrypted at rest (AES-256-GCM)",
        "runs": runs,
        "verifications": verifications,
        "residual_risk": _residual_risk(runs, verifications),
        "verification": {**log.inclusion_bundle(anchor), "public_keys_pem": public_keys_pem},
    }


def _examples(log: AuditLog, request_id: str, record: dict, limit: int = 3) -> list[dict]:
    probes_item = next((i for i in record["evidence"] if i["id"].endswith(":probes")), None)
    probes = log.evidence(request_id, probes_item["id"]) if probes_item else None
    if probes is None:
        return []
    out = []
    for split, items in probes.items():
        for item in items[:limit]:
            out.append({"views": split, "before": redact(item["before"][0]), "after": redact(item["after"][0])})
    return out


def _residual_risk(runs: list[dict], verifications: list[dict]) -> list[str]:
    notes = []
    erased = [r for r in runs if r["status"] == "erasure"]
    if not erased:
        notes.append("No completed erasure is recorded for this request.")
    for run in erased:
        for split, m in (run["metrics"] or {}).items():
            if m["name_leak_rate"] > 0:
                notes.append(f"Run {run['run']}: the name still appears in {m['name_leak_rate']:.0%} of {split}-view answers.")
    if verifications and not verifications[-1]["still_forgotten"]:
        notes.append("The latest re-probe found the person identifiable again.")
    notes.append(
        "Unlearning removes what the probes elicit; paraphrased or other-language questions, jailbreaks and "
        "fine-tuning on related data may still recover some knowledge. Re-run `forgetctl verify --model` regularly "
        "(GDPR Art. 32(1)(d))."
    )
    return notes


def _bar_chart(metrics: dict) -> str:
    """A small inline SVG of the per-split leak, refusal and degeneration rates."""
    bars = [(f"{split} {name.replace('_rate', '')}", value)
            for split, m in metrics.items() for name, value in m.items() if name.endswith("_rate")]
    width, row = 520, 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(bars) + 10}" role="img">']
    for i, (label, value) in enumerate(bars):
        y = 5 + i * row
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="190" y="{y + 3}" width="{max(1, value * 280):.0f}" height="14" fill="#3b6fb6"/>')
        parts.append(f'<text x="{200 + value * 280:.0f}" y="{y + 15}" font-size="12">{value:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value) -> str:
    return "not measured" if value is None else f"{value:.3f}"


def render_html(report: dict) -> str:
    standalone = (files("forgetctl_audit") / "standalone_verify.py").read_text()
    e = html.escape
    request = report["request"]
    rows = "".join(
        f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in request.items() if v is not None
    )
    run_sections = []
    for run in report["runs"]:
        metrics = run["metrics"] or {}
        metric_rows = "".join(
            f"<tr><td>{e(split)}</td>" + "".join(f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{v}</td>" for v in m.values()) + "</tr>"
            for split, m in metrics.items()
        )
        header = "".join(f"<th>{e(k)}</th>" for k in next(iter(metrics.values()), {}).keys())
        examples = "".join(
            f"<tr><td>{e(x['views'])}</td><td>{e(x['before'])}</td><td>{e(x['after'])}</td></tr>" for x in run["examples"]
        )
        method = run["method"] or {}
        verdict = run["verdict"]
        verdict_rows = "".join(
            f"<tr><td>{e(c['name'])}</td><td>{e(_number(c['measured']))}</td><td>{e(c['comparison'])} {c['threshold']}</td>"
            f"<td>{'pass' if c['passed'] else 'FAIL'}</td></tr>"
            for c in (verdict or {}).get("checks", [])
        )
        judge = (run["judge"] or {}).get("label", "")
        run_sections.append(f"""
<section><h3>Run {e(run['run'])}: {e(run['status'])}</h3>
<p>Started {e(str(run['started']))}. Method <b>{e(str(method.get('name', '-')))}</b> from plugin
{e(str(method.get('plugin', '-')))} {e(str(method.get('version', '')))}.</p>
{f'<p>Graded by: {e(judge)}</p>' if judge else ''}
{'<div class="wide"><table><tr><th>views</th>' + header + '</tr>' + metric_rows + '</table></div>' if metrics else ''}
{f'<h4>Policy {e(verdict["policy"])}: {"passed" if verdict["passed"] else "FAILED"}</h4><table><tr><th>check</th><th>measured</th><th>threshold</th><th>result</th></tr>' + verdict_rows + '</table>' if verdict else ''}
{_bar_chart(metrics) if metrics else ''}
{'<h4>Example answers (private details redacted)</h4><table><tr><th>views</th><th>before</th><th>after</th></tr>' + examples + '</table>' if examples else ''}
</section>""")
    verifications = "".join(
        f"<li>#{v['seq']} {e(v['time'])}: {'still forgotten' if v['still_forgotten'] else 'IDENTIFIABLE AGAIN'}</li>"
        for v in report["verifications"]
    ) or "<li>none yet</li>"
    risks = "".join(f"<li>{e(r)}</li>" for r in report["residual_risk"])
    bundle = {k: v for k, v in report["verification"].items() if k != "public_keys_pem"}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Erasure report {e(request['id'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; }} td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
pre {{ background: #f4f4f4; padding: .8rem; overflow-x: auto; font-size: .8rem; }}
h1 {{ font-size: 1.5rem; }} .muted {{ color: #666; }} .wide {{ overflow-x: auto; }}
</style></head><body>
<h1>Right-to-erasure report: {e(request['id'])}</h1>
<p class="muted">{e(report['report'])}. The person is identified only by a keyed hash; evidence is {e(report['evidence'])}.</p>
<h2>Request</h2><table>{rows}</table>
<h2>What was done</h2>{''.join(run_sections) or '<p>No runs recorded.</p>'}
<h2>Later verifications</h2><ul>{verifications}</ul>
<h2>Residual risk</h2><ul>{risks}</ul>
<h2>Verify this report independently</h2>
<p>Save the bundle below as <code>bundle.json</code>, the public keys as <code>keys.pem</code> and the script as
<code>standalone_verify.py</code>, then run <code>python standalone_verify.py bundle.json keys.pem</code>
(it needs only the <code>cryptography</code> package). Compare the tree head with one you received earlier.</p>
<h3>Public keys</h3><pre>{e(report['verification']['public_keys_pem'])}</pre>
<h3>Bundle: record envelope, inclusion proof, signed tree head</h3><pre>{e(json.dumps(bundle, indent=2))}</pre>
<h3>standalone_verify.py</h3><pre>{e(standalone)}</pre>
</body></html>
"""
