"""The report as a PDF (fpdf2): the same blocks as the HTML page (sections.py), with the
machine-readable report and the auditor's two files attached so standalone_verify.py can check it.
"""

from __future__ import annotations

from forgetctl.report.charts import charts
from forgetctl.report.page import render
from forgetctl.report.sections import Bullets, Heading, Image, Paragraph, Table, body
from forgetctl.report.text import auditor_files

SIZES = {1: 15, 2: 13, 3: 11, 4: 10}  # heading level -> points
TONES = {"ok": (30, 123, 52), "bad": (179, 38, 30)}


def render_pdf(report: dict) -> bytes:
    import os

    import matplotlib
    from fpdf import FPDF

    fonts = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", os.path.join(fonts, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(fonts, "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Erasure report {report['request_id']}")
    pdf.add_page()
    images = charts(report, "png")
    for block in body(report, set(images)):
        draw(pdf, block, images)
    appendix(pdf, report)
    return bytes(pdf.output())


def draw(pdf, block, images: dict) -> None:
    from fpdf.fonts import FontFace

    width = pdf.epw
    if isinstance(block, Heading):
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", SIZES[block.level])
        pdf.set_text_color(*TONES.get(block.tone, (0, 0, 0)))
        pdf.multi_cell(width, 7, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    elif isinstance(block, Paragraph):
        summary = block.style == "summary"
        pdf.set_font("DejaVu", "B" if summary else "", 10 if summary else 8 if block.style == "muted" else 9)
        pdf.set_fill_color(238, 243, 250)
        pdf.multi_cell(width, 5.5 if summary else 5, block.text, fill=summary, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif isinstance(block, Bullets):
        pdf.set_font("DejaVu", "", 9)
        for item in block.items:
            pdf.multi_cell(width, 5, f"• {item}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif isinstance(block, Image):
        pdf.image(images[block.chart], w=width * block.scale)
    elif isinstance(block, Table):
        pdf.set_font("DejaVu", "", 8)
        header = FontFace(emphasis="BOLD", fill_color=(240, 240, 240))
        with pdf.table(col_widths=block.widths, headings_style=header, first_row_as_headings=block.head, line_height=4.5,
                       text_align="LEFT") as table:
            for row in block.rows:
                cells = table.row()
                for c in row:
                    cells.cell(c.text, style=FontFace(color=TONES[c.tone], emphasis="BOLD") if c.tone else None)
        pdf.ln(2)


def appendix(pdf, report: dict) -> None:
    """How to check this PDF: its attachments, and the fingerprint to compare."""
    pdf.add_page()
    draw(pdf, Heading("Appendix: verify this report yourself"), {})
    for text in (
        "The machine-readable report is attached to this PDF as forgetctl-report.json, and the auditor's script, "
        "standalone_verify.py, with report_statements.py, which it runs. Save the three in one folder, get the log's "
        "root fingerprint from the controller out of band, and run: "
        "python standalone_verify.py forgetctl-report.json --pin FINGERPRINT. The script needs only the "
        "cryptography package; what it prints is authoritative, these pages are not checked by it.",
        f"The root fingerprint this report claims (compare, never trust): {report['root_fingerprint']}",
    ):
        draw(pdf, Paragraph(text), {})
    pdf.embed_file(bytes=render(report, "json").encode(), basename="forgetctl-report.json",
                   desc="the signed records, proofs and tree head behind this report")
    for name, text in auditor_files().items():
        pdf.embed_file(bytes=text.encode(), basename=name,
                       desc="the auditor's verifier: python standalone_verify.py forgetctl-report.json --pin FINGERPRINT"
                       if name == "standalone_verify.py" else "what a report states, derived from the signed records; "
                       "standalone_verify.py runs it")
