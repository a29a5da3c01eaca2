"""Running a validated erasure request with progress on the terminal, and showing its outcome.
Shared by `forgetctl erase` and `forgetctl demo`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.ui import console, err_console, phase_progress
from forgetctl.config import forgetctl_home
from forgetctl.errors import ExitCode
from forgetctl_audit.report_statements import CLOSE_REASONS, knowledge_unmeasured, knowledge_words

if TYPE_CHECKING:
    from forgetctl.evaluation.results import Evaluation
    from forgetctl.pipeline import RunOutcome
    from forgetctl.policy import Verdict
    from forgetctl.request import EraseRequest


def run_with_progress(request: EraseRequest) -> RunOutcome | None:
    """Run the request with a progress bar per phase and a loss line per step. Under
    `accelerate launch` the other processes only help erase, quietly, and return None."""
    from forgetctl.engine.distributed import is_main_process
    from forgetctl.reporting import Reporter
    from forgetctl.pipeline import run_request

    home = forgetctl_home()
    if not is_main_process():
        return run_request(request, home)

    def step(e):
        err_console.print(
            f"step {e['step']:3d}  loss {e['loss']:9.4f}  forget {e['forget_loss']:9.4f}  retain {e['retain_loss']:.4f}",
            highlight=False,
        )

    def notice(message):
        err_console.print(escape(message), highlight=False)

    for note in request.notes:
        notice(note)
    try:
        with phase_progress() as phase:
            return run_request(request, home, Reporter(phase, step, notice))
    except KeyboardInterrupt as exc:
        err_console.print("[bold red]interrupted[/]: the run is recorded as run-interrupted; nothing was kept under runs/")
        open_requests = getattr(exc, "open_requests", {})  # RunInterrupted: after its requests were recorded
        for request_id, deadline in open_requests.items():
            err_console.print(f"request {request_id} stays open (deadline {deadline})", highlight=False)
        if open_requests:
            err_console.print("next: run the same `forgetctl erase` again: it continues the open request "
                              "(the run starts over); if nobody will, close it with a reason: forgetctl audit close "
                              f"{next(iter(open_requests))} --reason {'|'.join(CLOSE_REASONS)}", highlight=False)
        raise typer.Exit(ExitCode.INTERRUPTED) from None


def learning_rate_words(spec) -> str:
    """The learning rate the run will use, as a number, and where it comes from."""
    from forgetctl.engine.families import family_of_dir

    if spec.training.learning_rate:
        return f"lr {spec.training.learning_rate:g}"
    rates = spec.method.cls.learning_rates
    found = family_of_dir(spec.model_dir)
    if found is None:
        return f"lr {rates['default']:g} or the method's rate for this model's family (--lr to set)"
    return f"lr {rates.get(found, rates['default']):g} ({spec.method.name}'s rate for {found} models; --lr to set)"


def render_plan(request: EraseRequest, home) -> None:
    """What `erase --dry-run` prints: every input checked, what would run, and where it would go,
    with the defaults that carry legal meaning said out loud."""
    from forgetctl.request import adapter_bytes, folder_bytes
    from forgetctl.trail import GROUNDS, add_months

    spec = request.spec
    table = Table(title="Plan (dry run: nothing was loaded, trained or recorded)", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for person in spec.people:
        table.add_row("erase", f"{escape(person.name)}: {len(person.seen)} photos to train on, {len(person.unseen)} held out"
                      + (", with a profile" if person.profile else ""))
    table.add_row("retain", f"{len(spec.retain)} photos of other people" if spec.retain else "none: the people's own photos, described (pass --retain)")
    if spec.earlier:
        due = len(spec.earlier) - len(spec.deferred)
        table.add_row("erased before", f"{due} of {len(spec.earlier)} re-probed" + (
            f" (--reprobe-every {spec.reprobe_every}: the others take their turn in a later release)" if spec.deferred else ""))
    sets = len({b.label.split("#")[0] for b in spec.bystanders})
    table.add_row("canaries", f"{len(spec.bystanders)} people of {sets} set(s) asked again, never trained on" if spec.bystanders
                  else "none registered for this lineage (forgetctl canaries add)")
    table.add_row("model", escape(str(spec.model_dir)))
    options = ", ".join(f"{k}={v}" for k, v in spec.method_options.model_dump().items()) or "defaults"
    table.add_row("method", f"{spec.method.name} ({spec.method.plugin} {spec.method.version}): {options}")
    t = spec.training
    table.add_row("training", f"{t.steps} steps, batch {t.batch_size}, LoRA r={t.lora_rank} alpha={t.lora_alpha}, "
                  f"{learning_rate_words(spec)}, seed {t.seed}" + "".join(f"; {escape(n)}" for n in request.notes))
    table.add_row("identified?", "forced: erased whatever the base model shows" if request.spec.force else
                  "checked first: a person the base model does not identify is not erased (--force)")
    table.add_row("judge", escape(request.grading.judge.label))
    table.add_row("CLIPScore", "measured (checkpoint found; loaded when the run starts)" if request.grading.clip
                  else "not measured (no CLIP for this model)")
    table.add_row("policy", f"{escape(request.policy.name)}: {', '.join(f'{k} {v}' for k, v in request.policy.thresholds.items())}")
    record = request.record
    received = record.received or dt.date.today()
    table.add_row("audit log", f"{escape(str(home))}: " + (f"attach to request {record.request_id}" if record.request_id else "a new request")
                  + f", received {received}{'' if record.received else ' (today; --received to change)'}")
    table.add_row("grounds", f"Art. 17(1)({record.grounds}): {GROUNDS[record.grounds]}"
                  + (" (the default; --grounds to change)" if record.grounds == "a" else ""))
    table.add_row("deadline", f"{add_months(received, 1)} (Art. 12(3): one month; at most {add_months(received, 3)} if "
                  "extended, with reasons given in the first month)")
    release = ("no release (--no-release)" if not request.release else
               f"if the policy passes, a release (base + adapter merged, about {folder_bytes(spec.model_dir) / 2**20:,.0f} MiB) in "
               + escape(str(request.merge_to or home / "releases" / "RUN_ID")))
    table.add_row("writes", f"runs/RUN_ID/ (adapter, about {adapter_bytes(spec.model_dir, t) / 2**20:,.0f} MiB); {release}")
    console.print(table)
    console.print("[green]Pre-flight OK[/]: photos, model folder, method options, judge, policy, storage and request all check out.")


def render_not_identifiable(name: str, found, request_id: str | None) -> None:
    """One plain paragraph: what was asked, how often the model identified them, against the control."""
    photos = ", ".join(f"{k}/{n}" for k, n in found.per_photo)
    console.print(
        f"[bold]The model did not identify {escape(name)} on these photos; nothing was changed for them.[/] "
        f"It named them or repeated their private facts in {found.leaks} of {found.asked} answers "
        f"({len(found.per_photo)} photos; per photo {photos}), against {found.control_leaks} of "
        f"{found.control_asked} answers about photos that are not theirs."
        + (f" Recorded as not-identifiable under request [bold]{request_id}[/]." if request_id else ""))


def render_measured(result, evaluation: Evaluation, method: str) -> None:
    """What the model said before and after, and what was measured, per person."""
    from forgetctl.evaluation.metrics import in_scope

    for name, found in result.identified.items():
        if name in evaluation.forget:
            console.print(f"Before erasure the model identified {escape(name)} in {found.leaks} of {found.asked} answers "
                          f"on their photos ({found.control_leaks} of {found.control_asked} on photos that are not theirs).")
        if name in evaluation.forget and not found.identifiable:
            console.print(f"[yellow]--force: {escape(name)} was erased although the model did not identify them "
                          f"({found.leaks} of {found.asked} answers); the record says so.[/]")
    for name, splits in result.forget.items():
        table = Table(title=f"{escape(name)}: first answer before and after erasure ({method})")
        for column in ("view", "before", "after"):
            table.add_column(column, overflow="fold")
        for split, probes in splits.items():
            for probe in probes:
                table.add_row(f"{escape(probe.photo.path.name)} ({split})", escape(probe.before[0]), escape(probe.after[0]))
        console.print(table)

    for name, splits in evaluation.forget.items():
        table = Table(title=f"Measured for {escape(name)} ({escape(evaluation.judge['label'])})")
        table.add_column("metric")
        for split in splits:
            table.add_column(f"{split} views", justify="right")
        for metric in in_scope("forget"):
            table.add_row(f"{metric.label} {metric.arrow}", *(metric.format(m.get(metric.key)) for m in splits.values()))
        console.print(table)
    if all(m["clipscore"] is None for splits in evaluation.forget.values() for m in splits.values()):
        console.print("CLIPScore not measured: pass --clip-model ARCH --clip-pretrained FILE for this model.")
    for name, splits in evaluation.forget.items():  # n/a in the tables above: say why, as the report will
        if not knowledge_words(splits):
            console.print(f"{escape(name)}: {escape(knowledge_unmeasured(splits))}")
    retain = evaluation.retain
    console.print("Retain answers: " + ", ".join(
        f"{m.label} {m.format(retain.get(m.key))}" for m in in_scope("retain")
    ))


def render_outcome(outcome: RunOutcome, method: str) -> None:
    result, evaluation = outcome.result, outcome.evaluation
    for name in result.not_identifiable:
        render_not_identifiable(name, result.identified[name], outcome.request_ids.get(name))
    if evaluation is None:
        console.print("next: check that these are the right photos and the right model; "
                      "`--force` erases anyway and records that it was forced.")
        return
    render_measured(result, evaluation, method)

    decision = outcome.verdict
    render_checks(decision)
    for request_id, splits in evaluation.earlier.items():
        parts = [f"{split} {m.get('leak_rate', 0):.0%} leaks" if split != "retain" else f"retain drop {m['rouge_l_drop']:.3f}"
                 for split, m in splits.items()]
        console.print(f"Erased before, {request_id}: " + ", ".join(parts))
    canaries = evaluation.bystanders
    if canaries:
        label, worst = max(canaries.items(), key=lambda item: item[1]["rouge_l_drop"])
        console.print(f"Canaries asked again: {len(canaries)}; the most changed, {label}, drop {worst['rouge_l_drop']:.3f}")
    for note in decision.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.manifest["timings_s"].items())
    console.print(f"Adapter and manifest in [cyan]{escape(str(result.run_dir))}[/]  ({timings})")
    if outcome.merged:
        console.print(f"Release (base + adapter merged, deployable) in [cyan]{escape(str(outcome.merged))}[/]; "
                      "`forgetctl lineage head` names the version to serve")
    for name, request_id in outcome.request_ids.items():
        state = "an erasure" if decision.passed and name not in outcome.held_back else "a run that failed its policy"
        console.print(f"Recorded in the audit log as {state} under request [bold]{request_id}[/] ({escape(name)})")
    for name, held in outcome.held_back.items():
        failed = ", ".join(held.failed)
        console.print(f"[yellow]Held back from this {'release' if outcome.merged else 'erasure'}: {escape(name)}[/] "
                      f"(their own checks failed: {escape(failed)}); the others' erasure stands. Their request stays "
                      f"open: erase them again with --request-id {outcome.request_ids[name]}")
    render_next(outcome)


def exit_code(outcome: RunOutcome) -> ExitCode:
    """What the run's outcome means to a script (`forgetctl erase --help`)."""
    if outcome.verdict is None:
        return ExitCode.NOT_IDENTIFIABLE
    if not outcome.verdict.passed:
        return ExitCode.CHECK_FAILED
    return ExitCode.HELD_BACK if outcome.held_back else ExitCode.OK


def render_checks(decision: Verdict) -> None:
    """The policy's checks at 80 columns: the check's name whole (the longest is 31 characters, a
    name to grep and to put in a policy file), what was measured folded beside it, and n/a where
    nothing could be measured."""
    table = Table(title=f"Policy {escape(decision.policy)}: {'PASSED' if decision.passed else 'FAILED'}")
    table.add_column("check", no_wrap=True)
    table.add_column("measured", overflow="fold")
    table.add_column("bound", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for check in decision.checks:
        missing = check.measured is None
        table.add_row(escape(check.name), f"n/a ({escape(check.note)})" if missing and check.note else
                      "n/a" if missing else f"{check.measured:.3f}",
                      f"{check.comparison} {check.threshold}",
                      "[dim]n/a[/]" if check.unmeasured else "[green]pass[/]" if check.passed else "[red]FAIL[/]")
    console.print(table)


def render_next(outcome: RunOutcome) -> None:
    """One line that names the command to run next, or what to change for each failed check."""
    from forgetctl.evaluation.metrics import remedies

    decision = outcome.verdict
    if decision.passed:
        if outcome.merged:
            console.print(f"next: deploy the head (`forgetctl lineage head`), and re-test it regularly: "
                          f"forgetctl verify --model {escape(str(outcome.merged))} --attacks quick")
        else:
            console.print(f"next: forgetctl verify --model BASE --adapter {escape(str(outcome.result.run_dir / 'adapter'))}")
        return
    for name in decision.failed[:3]:
        console.print(f"next: {escape(name)} failed: try {remedies().get(name, 'another method or learning rate')}")
    request_id = next(iter(outcome.request_ids.values()), None)
    if request_id and len(outcome.request_ids) == 1:
        console.print(f"then run the erase again with --request-id {request_id} (the same request, its deadline kept)")
