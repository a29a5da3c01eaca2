#!/usr/bin/env bash
# What an operator and a DPO see after three requests on one lineage, at 80 columns:
# `audit list`, `lineage list`, `lineage head`, `verify --attacks quick` on the head, and the
# second request's report: docs/report-screenshot.png (its HTML page in headless Chromium) and
# docs/report-pdf-page1.png, -page2.png (its PDF, through pdftoppm).
#   bash bench/report_screenshot.sh        (about 3 minutes on 2 CPU cores; needs chromium, pdftoppm)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export FORGETCTL_HOME="$work/home" COLUMNS=80
py="$root/.venv/bin/python"
fc="$root/.venv/bin/forgetctl"
"$py" "$root/bench/three_people.py" "$work"
model=()
for i in 0 1 2; do  # each request erased from the last release
  "$fc" erase --entity "$(cat "$work/p$i.name")" --images "$work/p$i" --retain "$work/retain" "${model[@]}" > "$work/erase$i.log" 2>&1
  model=(--model "$(ls -td "$FORGETCTL_HOME"/releases/* | head -1)")
done
"$fc" audit list
"$fc" lineage list
"$fc" lineage head
"$fc" verify "${model[@]}" --attacks quick > "$work/verify.txt" 2>&1 || echo "verify exit $?"
tail -40 "$work/verify.txt"
request="$("$fc" audit list --json | sed -n 2p | "$py" -c 'import json, sys; print(json.load(sys.stdin)["request_id"])')"
"$fc" audit export "$request" --out "$work/report.html"
"$fc" audit export "$request" --format pdf --out "$work/report.pdf"
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-sync \
  --user-data-dir="$work/profile" --window-size=1000,2600 --screenshot="$root/docs/report-screenshot.png" \
  "file://$work/report.html" 2>/dev/null
pdftoppm -r 80 -png -f 1 -l 2 "$work/report.pdf" "$work/page"
cp "$work/page-1.png" "$root/docs/report-pdf-page1.png"
cp "$work/page-2.png" "$root/docs/report-pdf-page2.png"
echo "docs/report-screenshot.png, docs/report-pdf-page1.png, -page2.png from $work/report.html and report.pdf"
