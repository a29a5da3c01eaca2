#!/usr/bin/env bash
# docs/report-screenshot.png: the first page of a real DPO report, as headless Chromium shows it.
# One demo erasure (with retain people), `verify --attacks quick` on its release, the export.
#   bash bench/report_screenshot.sh        (about 8 minutes on 2 CPU cores; needs chromium)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export FORGETCTL_HOME="$work/home" COLUMNS=80
py="$root/.venv/bin/python"
name="$("$py" -c 'from forgetctl.demo.world import load_world; print(load_world().known[0].name)')"
"$py" - "$work" <<'PY'
import sys
from pathlib import Path
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
world, out = load_world(), Path(sys.argv[1])
person = world.known[0]
write_views(person, out / "photos")
for other in world.unlike(person, 3):
    write_views(other, out / "retain" / other.id)
PY
"$root/.venv/bin/forgetctl" erase --entity "$name" --images "$work/photos" --retain "$work/retain"
release="$(ls -d "$FORGETCTL_HOME"/releases/* | head -1)"
"$root/.venv/bin/forgetctl" verify --model "$release" --attacks quick
request="$("$root/.venv/bin/forgetctl" audit list | grep -o 'req-[0-9a-f]*' | head -1)"
"$root/.venv/bin/forgetctl" audit export "$request" --out "$work/report.html"
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-sync \
  --user-data-dir="$work/profile" --window-size=1000,2600 --screenshot="$root/docs/report-screenshot.png" \
  "file://$work/report.html"
echo "docs/report-screenshot.png from $work/report.html"
