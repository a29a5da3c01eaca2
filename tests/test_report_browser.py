"""The DPO report as a reader sees it: rendered by headless Chromium, screenshot kept, the parts
a DPO reads first present and nothing wider than the page."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from forgetctl.report import build_report, render_html
from forgetctl_audit.keys import Keyring
from forgetctl_audit.store import AuditLog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def a_report(home: Path) -> str:
    """A request erased, verified with attacks, and re-verified by mistake on the base, annotated."""
    Keyring(home / "keys").init()
    log = AuditLog(home)
    log.append("request", "req-view", {"received": "2026-11-02", "deadline": "2026-12-02",
                                      "grounds": "Art. 17(1)(b): consent withdrawn", "subject": "ab" * 32})
    log.append("run-started", "req-view", {"run": "r1", "method": "pubg", "model": "/models/llava"})
    metrics = {"seen": {"leak_rate": 0.0, "leak_rate_before": 1.0, "judge_informativeness": 5.0, "usr": 1.0},
               "unseen": {"leak_rate": 0.0, "leak_rate_before": 1.0, "judge_informativeness": 4.5, "usr": 1.0}}
    verdict = {"policy": "default", "passed": True, "checks": [
        {"name": "leak_rate_max", "measured": 0.0, "threshold": 0.0, "comparison": "<=", "passed": True, "note": ""}]}
    log.append("erasure", "req-view", {"run": "r1", "verdict": verdict, "metrics": {"req-view": metrics},
                                       "losses": [3.0 - 0.1 * i for i in range(30)],
                                       "manifest": {"method": {"name": "pubg", "plugin": "pubg", "version": "0.1.0"}}},
               evidence={"probes": {"seen": [{"before": ["This is Jane Roe, a pilot."], "after": ["A person with red hair."]}]}})
    attacks = {"relearn@10 steps": {"label": "LoRA fine-tuning on unrelated people's answers (10 steps)", "tests_nothing": False,
                                    "erased": {"seen": 0.0, "unseen": 0.0}, "base": {"seen": 1.0, "unseen": 1.0}}}
    log.append("verification", "req-view", {"still_forgotten": True, "metrics": metrics,
                                            "tested": {"version": "f853a830", "carries_erasure": True, "attacks": "quick"},
                                            "attacks": attacks})
    seq = log.append("verification", "req-view", {"still_forgotten": False, "metrics": metrics,
                                                  "tested": {"model": "6381f309", "carries_erasure": False}})
    log.append("annotation", "req-view", {"about": seq, "note": "a test of the base model, not a finding"})
    report = build_report(log, "req-view")
    log.close()
    return render_html(report)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs it)")
def test_the_report_renders_in_chromium_and_fits_the_page(forgetctl_home, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(a_report(forgetctl_home))
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1000,2600", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000",
                          "--run-all-compositor-stages-before-draw", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "was erased on" in dom and "Attacks in verification" in dom and "a test, not a finding" in dom
    assert "Jane" not in dom and "pilot" not in dom  # the example answers are redacted
    # Nothing wider than the page: measured by the browser itself.
    measure = tmp_path / "measure.html"
    measure.write_text(page.read_text().replace(
        "</body>", "<script>document.body.setAttribute('data-overflow', "
        "String(document.documentElement.scrollWidth > window.innerWidth))</script></body>"))
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=900,1200", "--dump-dom", measure.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'data-overflow="false"' in dom
    start = dom.index('id="forgetctl-report">') + len('id="forgetctl-report">')
    assert json.loads(dom[start:dom.index("</script>", start)])["request_id"] == "req-view"  # the embedded report parses
