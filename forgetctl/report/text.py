"""What every rendering of a report says the same way: the authority line, the request's fields,
the checks' labels.
"""

from __future__ import annotations

import base64
import json
from importlib.resources import files

from forgetctl.evaluation.metrics import COLLATERAL_CHECK, INCONCLUSIVE, by_check


def auditor_files() -> dict[str, str]:
    """The auditor's two files, by name, as every rendering carries them: the checker, and the
    derivation of what a report states that it runs (saved side by side)."""
    return {name: (files("forgetctl_audit") / name).read_text() for name in ("standalone_verify.py", "report_statements.py")}


# What the first lines of every rendering say: the auditor's script checks the data, not the page.
AUTHORITY = ("Only the printout of standalone_verify.py (see the appendix) is authoritative: it derives every "
             "statement from the signed records and checks the summary and residual risk this page shows; the "
             "rest of this page is a rendering it does not check.")


LABELS = {  # in the order a reader wants them
    "received": "Received", "deadline": "Deadline (Art. 12(3), one month)",
    "latest_extended_deadline": "Latest extended deadline (Art. 12(3), plus two months)",
    "grounds": "Grounds",
    "subject": "Person (keyed hash only)",
}


def check_label(name: str) -> str:
    """A check in words: the metric it bounds and what that means (never its internal name)."""
    metric = {**by_check(), INCONCLUSIVE.check: INCONCLUSIVE}.get(name)
    if name == COLLATERAL_CHECK:
        return "collateral measured: anyone besides the erased people asked again (retain people, canaries)"
    return f"{metric.label}: {metric.meaning}" if metric else name.replace("_", " ")


def rate(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def decode_payload(item: dict) -> dict:
    return json.loads(base64.b64decode(item["envelope"]["payload"]))
