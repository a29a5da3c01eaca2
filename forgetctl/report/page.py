"""The report as JSON or as one self-contained HTML page: the report's blocks (sections.py)
through a Jinja2 template, the charts inline, the auditor's two files and the signed records in an
appendix, the machine-readable report embedded for standalone_verify.py."""

from __future__ import annotations

import json

from forgetctl.report.charts import charts
from forgetctl.report.sections import body
from forgetctl.report.text import auditor_files, decode_payload


def render(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    return render_html(report)


def render_html(report: dict) -> str:
    import jinja2

    images = {k: v.decode() for k, v in charts(report, "svg").items()}
    env = jinja2.Environment(loader=jinja2.PackageLoader("forgetctl.report"), autoescape=True,
                             trim_blocks=True, undefined=jinja2.StrictUndefined)
    keys = [{"seq": r["seq"], "key_id": r["body"]["key_id"],
             "role": "root" if r["body"]["replaces"] is None else f"replaces {r['body']['replaces']}"}
            for r in map(decode_payload, report["bundle"]["records"]) if r["kind"] == "key"]
    return env.get_template("report.html.j2").render(
        report=report, blocks=body(report, set(images)), charts=images, keys=keys,
        kind=lambda block: type(block).__name__,
        percent=lambda table: [round(100 * w / sum(table.widths), 1) for w in table.widths],
        scripts=auditor_files(),
        bundle=json.dumps(report["bundle"], indent=1),
        # Inside <script>, only "</" could end it early.
        embedded=json.dumps(report, ensure_ascii=False).replace("</", "<\\/"),
    )
