"""The report as a PDF (fpdf2), with the machine-readable report attached so standalone_verify.py
can check it.
"""

from __future__ import annotations

from importlib.resources import files

from forgetctl_audit.standalone_verify import describe_tested, identified_words, result_words

from forgetctl.evaluation.metrics import in_scope
from forgetctl.report.build import attack_rows
from forgetctl.report.charts import charts
from forgetctl.report.page import render
from forgetctl.report.text import AUTHORITY, LABELS, check_label, rate



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
            table([["attack", "erased", "base", "result"]] + [[r["attack"], rate(r["erased"]), rate(r["base"]), r["result"]]
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
