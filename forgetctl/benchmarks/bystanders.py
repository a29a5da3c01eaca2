"""Does an erasure keep the people it was not told about? One person of a test world erased with
PUBG's default recipe and the default policy, with canaries registered (look-alikes of the person
and others, none of them in the retain folder), for three retain folders: people who look unlike
the person (what the other benchmarks use), people who look like them, and both. Per run: each
canary's drift, the retain drift, leaks, informativeness, the policy's verdict, and the name leak
after 10 steps of the relearning attacker of `verify --attacks full` (LoRA and full fine-tuning)."""

from __future__ import annotations

import tempfile
from pathlib import Path

RELEARN = {"steps": [10]}
CANARY_LOOKALIKES, CANARY_OTHERS, RETAIN = 2, 2, 3


def shared_looks(a, b) -> int:
    return sum(a.looks[k] == b.looks.get(k) for k in a.looks)


def cast(world):
    """The person, the canaries, and the three retain folders (by person)."""
    from forgetctl.benchmarks.worlds import choose

    (person,), unlike = choose(world, 1, RETAIN)
    ranked = sorted((p for p in world.people if p != person and p not in unlike), key=lambda p: -shared_looks(person, p))
    canaries = ranked[:CANARY_LOOKALIKES] + ranked[len(ranked) - CANARY_OTHERS:]  # the closest two, the least alike two
    alike = ranked[CANARY_LOOKALIKES:CANARY_LOOKALIKES + RETAIN]
    return person, canaries, {"unlike": unlike, "alike": alike, "both": [*unlike, *alike]}


def measure(world, on_row=None, earlier: dict | None = None, learning_rate: float | None = None) -> dict:
    """The three runs on `world` (those in `earlier` are not run again); `on_row(world, results)`
    after each. `learning_rate`: instead of PUBG's default for the model's family."""
    from forgetctl.host.manager import create_host

    person, canaries, folders = cast(world)
    cls = create_host().attacks()["relearn"].cls
    attack = cls(cls.parse_options(RELEARN))
    results = earlier or {"world": world.name, "learning_rate": learning_rate, "person": person.id, "canaries": [p.id for p in canaries],
                          "lookalike_canaries": [p.id for p in canaries[:CANARY_LOOKALIKES]],
                          "retain": {k: [p.id for p in v] for k, v in folders.items()}, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world.write_views(person, root / "forget")
        for canary in canaries:  # one photo each, as an operator would register them
            (root / "canaries" / canary.id).mkdir(parents=True)
            first = world.write_views(canary, root / "views" / canary.id)[0]
            Path(first).rename(root / "canaries" / canary.id / Path(first).name)
        for choice, people in folders.items():
            if choice in results["runs"]:
                continue
            for other in people:
                world.write_views(other, root / f"retain-{choice}" / other.id)
            results["runs"][choice] = one_run(world, root, choice, person, attack, learning_rate)
            if on_row:
                on_row(world.name, results)
    return results


def one_run(world, root: Path, choice: str, person, attack, learning_rate: float | None) -> dict:
    """One erasure of `person` with the `choice` retain folder, beside the registered canaries:
    judged by the default policy, then relearned from its own evidence."""
    from forgetctl_audit.store import AuditLog

    from forgetctl.attacks import ModelSource
    from forgetctl.benchmarks import permissive_policy
    from forgetctl.benchmarks.knowledge import relearned
    from forgetctl.canaries import read_canaries, register
    from forgetctl.reporting import QUIET
    from forgetctl.pipeline import run_request
    from forgetctl.policy import load_policy, verdict
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.trail import open_log
    from forgetctl.types import TrainingConfig
    from forgetctl.verification import attack_inputs

    home = root / choice
    with open_log(home) as log:
        register(log, world.model_dir, read_canaries(root / "canaries"), QUIET)
    # Recorded under a permissive policy (the attacker needs an erasure's evidence); judged by the default.
    form = RequestForm(people=[PersonForm(person.name, root / "forget")], model=world.model_dir,
                       retain=root / f"retain-{choice}", policy=str(permissive_policy(root)), release=False,
                       training=TrainingConfig(learning_rate=learning_rate))
    request = validate(form, default_model=world.model_dir, home=home)
    outcome = run_request(request, home)
    evaluation = outcome.evaluation
    decision = verdict(load_policy("default"), evaluation)
    splits = evaluation.forget[person.name]
    row = {
        "passed": decision.passed,
        "failed": decision.failed,
        "leak_rate": {s: m["leak_rate"] for s, m in splits.items()},
        "informativeness": {s: m.get("judge_informativeness") for s, m in splits.items()},
        "retain_drop": evaluation.retain.get("rouge_l_drop"),
        # Per canary, in the order registered; None: the base names the person on their photo.
        "canary_drops": [evaluation.bystanders.get(b.label, {}).get("rouge_l_drop") for b in request.spec.bystanders],
    }
    with AuditLog(home, readonly=True) as log:
        targets, data = attack_inputs(log, [outcome.request_ids[person.name]])
    erased = ModelSource(world.model_dir, outcome.result.run_dir / "adapter")
    row["relearned"] = {v: relearned(attack, v, erased, targets, data) for v in attack.variants()}
    return row


def _drop(value) -> str:
    return "named as the person" if value is None else f"{value:.3f}"


def to_markdown(all_results: list[dict], command: str) -> str:
    lines = [
        "# Bystanders: who else an erasure forgets", "",
        f"Made by `{command}` (2 CPU cores). One person per world erased by PUBG (its default recipe at the "
        "learning rate each section names) under "
        "the default policy, with four canaries registered (`forgetctl canaries add`, one photo each): the "
        "person's two closest look-alikes and two other people, none of them in the retain folder. Three "
        "retain folders of three, three and six people. *canary drift*: 1 - ROUGE-L of each canary's "
        "answers against the original base's (the default policy fails above 0.1, the strict above 0.05); "
        "*named as the person*: the base itself answers that canary's photo with the erased person's name, "
        "so it is no bystander and not counted. *relearned*: the name leak on seen / unseen photos after 10 "
        "steps of the relearning attacker (LoRA lr 1e-3, full fine-tuning lr 1e-4) on invented people.", "",
    ]
    for results in all_results:
        rate = results.get("learning_rate")
        recipe = f"learning rate {rate:g}" if rate else "the default learning rate"
        lines += [f"## {results['world']} world, {recipe} (person {results['person']}; canaries {', '.join(results['canaries'])}, "
                  f"look-alikes {', '.join(results['lookalike_canaries'])})", "",
                  "| retain folder | default policy | leaks (seen / unseen) | inform | retain drift | canary drift | relearned (LoRA; full) |",
                  "|---|---|---|---|---|---|---|"]
        for choice, row in results["runs"].items():
            people = ", ".join(results["retain"][choice])
            verdict = "pass" if row["passed"] else "fail: " + ", ".join(row["failed"])
            leaks = " / ".join(f"{row['leak_rate'].get(s, 0):.0%}" for s in ("seen", "unseen"))
            inform = " / ".join("n/a" if row["informativeness"].get(s) is None else f"{row['informativeness'][s]:.1f}"
                                for s in ("seen", "unseen"))
            drops = ", ".join(_drop(d) for d in row["canary_drops"])
            relearned = "; ".join(" / ".join(f"{v.get(s, {}).get('leak_rate', 0):.0%}" for s in ("seen", "unseen"))
                                  if "not_run" not in v else "not run" for v in row["relearned"].values())
            lines.append(f"| {choice} ({people}) | {verdict} | {leaks} | {inform} | {row['retain_drop']:.3f} | {drops} | {relearned} |")
        lines.append("")
    return "\n".join(lines) + "\n"
