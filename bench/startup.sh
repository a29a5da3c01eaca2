#!/usr/bin/env bash
# Start-up of the commands that do not train: best wall time of 3 and whether torch was imported
# (python -X importtime), each in a fresh FORGETCTL_HOME with a key, from a neutral folder (so
# `python -m` finds the installed forgetctl, not a checkout). Usage: bash bench/startup.sh [VENV]
set -euo pipefail
V=$(cd "${1:-.venv}" && pwd)
export FORGETCTL_HOME=$(mktemp -d)
photos=$(mktemp -d)
cd "$(mktemp -d)"
"$V/bin/forgetctl" demo images --out "$photos" --person p001 >/dev/null
"$V/bin/forgetctl" keys init >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
  local best=999 start took
  for _ in 1 2 3; do
    start=$(date +%s%N)
    "$V/bin/python" -m forgetctl "$@" >/dev/null 2>&1 || true
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    (( took < best || best == 999 )) && best=$took
  done
  if "$V/bin/python" -X importtime -m forgetctl "$@" 2>&1 >/dev/null | grep -qE '[|] +torch$'; then torch=yes; else torch=no; fi
  printf '%-26s %5d ms  torch: %s\n' "$label" "$best" "$torch"
}
label="--help" run --help
label="plugins" run plugins
label="audit list" run audit list
label="lineage list" run lineage list
label="erase --dry-run (demo)" run erase --entity "Percival Ellingwood" --images "$photos" --dry-run
