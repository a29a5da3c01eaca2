"""The report's charts, as SVG for the HTML page or PNG for the PDF: one function per chart,
each drawing on the figure it is given."""

from __future__ import annotations

from forgetctl.report.build import attack_rows

BEFORE, AFTER = "#c0504d", "#4f81bd"


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
        if run["metrics"]:
            fig, axes = plt.subplots(1, 3, figsize=(9.5, 2.6))
            run_chart(run, *axes)
            out[f"run-{run['run']}"] = save(fig)
    attacked = [v for v in report["verifications"] if v.get("attacks")]
    if attacked:
        rows = attack_rows(attacked[-1]["attacks"])
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 0.9))
        attacks_chart(rows, ax)
        out["attacks"] = save(fig)
    if report["verifications"]:
        fig, ax = plt.subplots(figsize=(6.5, 2.2))
        verifications_chart(report["verifications"], ax)
        out["verifications"] = save(fig)
    return out


def run_chart(run: dict, leaks, inform, loss) -> None:
    """Leaks before and after, informativeness after (per view split), the loss per step."""
    metrics = run["metrics"]
    splits = list(metrics)
    x = range(len(splits))
    for offset, key, label, colour in ((-0.2, "leak_rate_before", "before", BEFORE), (0.2, "leak_rate", "after", AFTER)):
        values = [metrics[s].get(key) or 0 for s in splits]
        bars = leaks.bar([i + offset for i in x], values, 0.4, label=label, color=colour)
        leaks.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=7)
    leaks.set_xticks(list(x), [f"{s} views" for s in splits])
    leaks.set_ylim(0, 1.05)
    leaks.set_title("answers that leak the person", fontsize=9)
    leaks.legend(fontsize=8)
    inform.bar(list(x), [metrics[s].get("judge_informativeness") or 0 for s in splits], 0.5, color=AFTER)
    inform.set_xticks(list(x), [f"{s} views" for s in splits])
    inform.set_ylim(0, 5.2)
    inform.axhline(5, color="#999", lw=0.5)
    inform.set_title("informativeness after (1-5)", fontsize=9)
    loss.plot(range(1, len(run["losses"]) + 1), run["losses"], color=AFTER)
    loss.set_title("training loss per step", fontsize=9)
    loss.set_xlabel("step", fontsize=8)


def attacks_chart(rows: list[dict], ax) -> None:
    """The latest verification's attacks: how often the base and the erased model leak under each."""
    y = range(len(rows))
    ax.barh([i + 0.2 for i in y], [r["base"] or 0 for r in rows], 0.4, color=BEFORE, label="base model")
    ax.barh([i - 0.2 for i in y], [r["erased"] or 0 for r in rows], 0.4, color=AFTER, label="erased model")
    # Long labels keep their end, where the variant (steps, rate, bits) tells rows apart.
    ax.set_yticks(list(y), [a if len(a) <= 48 else f"{a[:20]}…{a[-27:]}" for a in (r["attack"] for r in rows)], fontsize=7)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title("latest attacks: share of answers that leak the person", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")


def verifications_chart(verifications: list[dict], ax) -> None:
    """Each verification's worst leak rate, red where the person was identifiable again."""
    times = [v["time"][:16].replace("T", " ") for v in verifications]
    leaks = [max(m.get("leak_rate", m.get("name_leak_rate", 0)) for m in v["metrics"].values()) for v in verifications]
    colours = [AFTER if v["still_forgotten"] else BEFORE for v in verifications]
    ax.scatter(range(len(times)), leaks, c=colours, zorder=3)
    ax.plot(range(len(times)), leaks, color="#bbb", zorder=2)
    ax.set_xticks(range(len(times)), times, rotation=20, fontsize=7, ha="right")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("verifications over time: worst leak rate (red: identifiable again)", fontsize=9)
