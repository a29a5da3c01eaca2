"""A request's report for a DPO or an auditor: JSON, a self-contained HTML page, or a PDF.

A report never holds personal data in plaintext: example answers pass through `redact`, which
keeps only the words of the base model's own descriptions of the person's photos (what anyone
sees in them) and of the tool's refusals, less the person's name and private words, and blacks
out every other word, in any script (names, places, years, awards, professions).

Everything a report states is derived from signed records by the auditor's own code
(forgetctl_audit/report_statements.py: `statements`, which standalone_verify.py runs), which
this module calls, so the two can never disagree. Exporting signs an export record that lists every record of the request and
carries the redacted examples; the records, their inclusion proofs, the key chain and a fresh
signed tree head travel with the report, so an auditor checks it, complete, with the root
fingerprint they pinned, without trusting this machine.

    build.py      the report from signed records (and the export record it signs)
    redaction.py  which words of an answer a report may show
    sections.py   the report's body as blocks (headings, paragraphs, tables, charts, lists),
                  which both the HTML page and the PDF render
    charts.py     the charts; text.py  what every rendering says alike
    page.py       JSON and the HTML page (templates/report.html.j2); pdf.py  the PDF
"""

from forgetctl.report.build import build_report
from forgetctl.report.page import render, render_html
from forgetctl.report.pdf import render_pdf
from forgetctl.report.redaction import REDACTED, redact, visible_words

__all__ = ["REDACTED", "build_report", "redact", "render", "render_html", "render_pdf", "visible_words"]
