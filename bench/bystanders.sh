#!/usr/bin/env bash
# Does an erasure keep the people it was not told about? One demo erasure (PUBG default, person
# p001, three retain people) after registering canaries none of whom is in the retain folder:
# a look-alike and three other known people, one photo each. Prints the outcome's canary drops.
#   bash bench/bystanders.sh            (about 4 minutes on 2 CPU cores)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$work"
export FORGETCTL_HOME="$work/home" COLUMNS=80
bin="$root/.venv/bin"
"$bin/python" - <<'PY'
from pathlib import Path
from forgetctl.demo.portraits import canonical_views, write_views
from forgetctl.demo.world import ATTRIBUTE_VALUES, load_world
world = load_world()
person = world.known[0]
write_views(person, Path("photos"))
retain = world.unlike(person, 3)
for other in retain:
    write_views(other, Path("retain") / other.id)
taken = {person.id} | {o.id for o in retain}
twin = next(q for q in world.known if q.id not in taken and sum(q.looks[k] == person.looks[k] for k in ATTRIBUTE_VALUES) >= 3)
for q in [twin, *[q for q in world.known if q.id not in taken | {twin.id}][:3]]:
    (Path("canaries") / q.id).mkdir(parents=True)
    canonical_views(q)[0].save(Path("canaries") / q.id / "0.png")
PY
name="$("$bin/python" -c 'from forgetctl.demo.world import load_world; print(load_world().known[0].name)')"
"$bin/forgetctl" canaries add canaries
"$bin/forgetctl" erase --entity "$name" --images photos --retain retain
echo "exit $?"
"$bin/python" - <<'PY'
from pathlib import Path
from forgetctl_audit.store import AuditLog
log = AuditLog(Path("home"), readonly=True)
body = [r for r in log.records() if r["kind"] in ("erasure", "run-failed-policy")][-1]["body"]
print("canary drops:", {k: round(v["rouge_l_drop"], 3) for k, v in body["bystanders"].items()},
      "retain drop:", body["retain_metrics"].get("rouge_l_drop"))
PY
