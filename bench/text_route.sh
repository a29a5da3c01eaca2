#!/usr/bin/env bash
# Does a later release reopen the text route (questions that name a person, with no photo) for
# someone erased before? Two demo requests erased one release after another, then the third
# person's release made from release 2 three times per way of keeping earlier people (held
# answers, the default, or --keep-earlier) over seeds 0-2; `verify --attacks quick` on each.
# Prints, per release, each person's share of text-only answers that leak and the worst photo
# attack.   bash bench/text_route.sh     (about 8 minutes on 2 CPU cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
py="$root/.venv/bin/python"
fc="$root/.venv/bin/forgetctl"
export COLUMNS=80 FORGETCTL_HOME="$work/home"
"$py" "$root/bench/three_people.py" "$work"
model=()
for i in 0 1; do
  "$fc" erase --entity "$(cat "$work/p$i.name")" --images "$work/p$i" --retain "$work/retain" "${model[@]}" > /dev/null 2>&1
  model=(--model "$(ls -td "$FORGETCTL_HOME"/releases/* | head -1)")
done
for way in held keep-earlier; do
  for seed in 0 1 2; do
    export FORGETCTL_HOME="$work/$way-$seed"
    cp -a "$work/home" "$FORGETCTL_HOME"
    flags=(--fork --seed "$seed"); [ "$way" = keep-earlier ] && flags+=(--keep-earlier)
    "$fc" erase --entity "$(cat "$work/p2.name")" --images "$work/p2" --retain "$work/retain" "${model[@]}" "${flags[@]}" > /dev/null 2>&1
    release="$(ls -td "$FORGETCTL_HOME"/releases/* | head -1)"
    "$fc" verify --model "$release" --attacks quick --json 2>/dev/null > "$FORGETCTL_HOME/verify.json" || true
    "$fc" audit list --json > "$FORGETCTL_HOME/requests.jsonl"
    "$py" - "$FORGETCTL_HOME" "$way" "$seed" <<'PY'
import json, sys
from pathlib import Path
home = Path(sys.argv[1])
attacks = json.loads((home / "verify.json").read_text())["attacks"]
order = [json.loads(line)["request_id"] for line in (home / "requests.jsonl").read_text().splitlines()]
text = attacks["text-only"]["erased"]
photo = max(a["leak"] or 0 for k, a in attacks.items() if k != "text-only" and "leak" in a)
people = ", ".join(f"person {order.index(r) + 1} {text[r].get('seen', 0):.0%}" for r in sorted(text, key=order.index))
print(f"{sys.argv[2]:>12} seed {sys.argv[3]}: text-only {people}; worst photo attack {photo:.0%}", flush=True)
PY
  done
done
