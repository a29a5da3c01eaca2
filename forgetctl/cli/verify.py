"""`forgetctl verify`: check the audit trail, and re-test erased models (GDPR Art. 32(1)(d))."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.audit import open_existing_log, read_head
from forgetctl.cli.ui import console, err_console, phase_progress
from forgetctl.errors import ExitCode, InputError
from forgetctl.policy import load_policy
from forgetctl.trail import claims_problems


def verify_command(
    against: Path = typer.Option(None, "--against", metavar="HEAD", help="A signed tree head exported earlier (audit head)."),
    pin: str = typer.Option(None, "--pin", metavar="FINGERPRINT", help="The root key fingerprint you hold (keys show): the chain must start there."),
    model: Path = typer.Option(None, "--model", metavar="DIR", help="Re-probe the people this model is supposed to have forgotten: a release, or the base with --adapter."),
    adapter: Path = typer.Option(None, "--adapter", metavar="DIR", help="A run's adapter/ to apply on --model."),
    request: str = typer.Option(None, "--request", metavar="ID", help="Re-probe only this request."),
    allow_unerased: bool = typer.Option(False, "--allow-unerased", help="Probe the original base anyway (recorded as a test of a model without the erasure)."),
    attacks: str = typer.Option(None, "--attacks", metavar="SUITE", help="Also attack the erasure: quick, full, or a suite .toml (needs --model)."),
    policy: str = typer.Option("default", "--policy", metavar="NAME|FILE", help="Policy whose [attacks] thresholds the attacks must meet."),
    as_json: bool = typer.Option(False, "--json", help="Print the re-probe and attack results as JSON."),
):
    """Check every signature, the key chain, the hash chain and the Merkle tree; optionally
    re-probe a model for the people it is supposed to have forgotten.

    Exit codes: 0 all checks pass, 3 a check failed (tampering or a person no longer forgotten),
    1 the command could not run, 2 a usage error.
    """
    if adapter is not None and model is None:
        raise InputError("--adapter needs --model: the base model the adapter was trained on")
    if attacks is not None and model is None:
        raise InputError("--attacks needs --model: the model to attack")
    suite = load_attack_suite(attacks) if attacks else None
    chosen_policy = load_policy(policy)
    with open_existing_log(readonly=model is None) as log:
        head = read_head(against) if against is not None else None
        report = log.verify(against=head, pin=pin)
        if report.ok:
            for problem in claims_problems(log.records()):
                report.fail(None, problem)
        if not report.ok:
            where = f" (first bad record: #{report.first_bad_seq})" if report.first_bad_seq else ""
            err_console.print(f"[bold red]FAILED[/]{where}")
            for problem in report.problems:
                err_console.print(f"  - {escape(problem)}", highlight=False)
            raise typer.Exit(ExitCode.CHECK_FAILED)
        suffix = f" and extend the tree head in {against}" if against else ""
        out = err_console if as_json else console  # --json: stdout carries the JSON alone
        out.print(f"[green]OK[/]: {report.records} records: signatures, key chain, hash chain and tree verify{suffix}")
        out.print(f"Root key fingerprint: {report.root_fingerprint}"
                  + (" (as pinned)" if pin else " (compare it with the one you hold, or pass --pin)"))
        if against is None:
            out.print("No tree head of your own was given (--against HEAD): the newest records, deleted together "
                      "with every head kept in this folder, would go unnoticed. Keep `forgetctl audit head` "
                      "files elsewhere and verify against one.")
        if model is not None:
            reprobe_model(log, model, adapter, request, allow_unerased, suite, chosen_policy, as_json)


def load_attack_suite(name: str):
    from forgetctl.attacks import load_suite
    from forgetctl.host.manager import create_host

    return load_suite(name, create_host().attacks())


def reprobe_model(log, model: Path, adapter: Path | None, request: str | None, allow_unerased: bool,
                  suite, policy, as_json: bool) -> None:
    from forgetctl_audit.report_statements import describe_tested

    from forgetctl.lineage import Lineage
    from forgetctl.verification import reprobe, select_targets

    # The log verified a moment ago (verify_command): its lineage needs no second verification.
    targets = select_targets(log, model, adapter, request, allow_unerased, Lineage.from_records(log.records()))
    attack_results, failed_checks = None, []
    with phase_progress() as phase:
        if suite is not None:
            attack_results = run_suite(log, model, adapter, targets, suite[1], phase)
            targets.tested["attacks"] = suite[0]
            failed_checks = attack_checks(policy, attack_results)
        results = reprobe(log, model, adapter, targets, phase, attack_results)
    if as_json:
        import json
        from dataclasses import asdict

        typer.echo(json.dumps({"tested": targets.tested, "results": [asdict(r) for r in results], "attacks": attack_results,
                               "unverifiable": targets.unverifiable, "failed_checks": failed_checks}, indent=2))
    else:
        render_reprobe(describe_tested(targets.tested), results, targets.unverifiable)
        if attack_results is not None:
            render_attacks(attack_results, failed_checks)
            render_attack_knowledge(attack_results)
            render_unbounded(attack_results, policy)
        if not targets.tested["carries_erasure"]:
            console.print("This model carries no erasure (--allow-unerased): leaks here are expected and prove nothing.")
    if targets.tested["carries_erasure"] and (not all(r.forgotten for r in results) or failed_checks):
        raise typer.Exit(ExitCode.CHECK_FAILED)


def run_suite(log, model: Path, adapter: Path | None, targets, attacks, phase) -> dict:
    """The suite on the model under test and on its base (the lineage's original base, or the
    model the adapter was trained on)."""
    from forgetctl.attacks import ModelSource, run_attacks
    from forgetctl.reporting import Reporter
    from forgetctl.verification import attack_inputs

    people, data = attack_inputs(log, targets.requests)
    base = Path(targets.tested["base"] or model)
    return run_attacks(attacks, people, ModelSource(model, adapter), ModelSource(base), data, Reporter(phase=phase))


def attack_checks(policy, results: dict) -> list[str]:
    """The policy's [attacks] thresholds (worst leak over an attack's variants); an attack that
    did not run, or under which the base does not leak either, cannot pass one."""
    failed = []
    for name, threshold in policy.attacks.items():
        rows = [row for key, row in results.items() if key.split("@")[0] == name]
        if not rows:
            failed.append(f"{name}: the policy bounds it, but the suite did not run it")
        for row in rows:
            if "not_run" in row or row["tests_nothing"]:
                failed.append(f"{row['label']}: {row.get('not_run') or 'tests nothing (the base does not leak either)'}")
            elif row["leak"] > threshold:
                failed.append(f"{row['label']}: leak {row['leak']:.0%} > {threshold:.0%}")
    return failed


def render_reprobe(tested: str, results: list, unverifiable: dict) -> None:
    table = Table(title=f"Re-probe of {tested}")
    for column in ("request", "views", "asked", "leaks", "AUC", "TR", "forgotten"):
        table.add_column(column, no_wrap=True)
    for r in results:
        for split, m in r.metrics.items():
            known = m.get("knowledge_measured")
            table.add_row(r.request_id, split, str(m["answers"]), f"{m['leak_rate']:.0%}",
                          f"{m['mia_auc_min_k_plus_plus']:.2f}" if known else "n/a",
                          f"{m['truth_ratio']:.2f}" if known else "n/a",
                          "[green]yes[/]" if r.forgotten else "[red]NO[/]")
    console.print(table)
    console.print("In the weights: AUC, how well a membership test (Min-K%++) tells the person's answers from "
                  "never-seen ones (0.5: it cannot); TR, the truth ratio: how likely false facts are against the true "
                  "ones (1: no preference).")
    for request_id, why in unverifiable.items():
        console.print(f"[yellow]{request_id} cannot be re-probed[/]: {why} (not counted as verified)")
    console.print("Recorded as signed verification entries in the audit log.")


def render_attacks(results: dict, failed_checks: list[str]) -> None:
    table = Table(title="Attacks: worst leak over the people (seen / unseen photos)")
    table.add_column("attack", overflow="fold")
    for column in ("erased", "base", "result"):
        table.add_column(column, no_wrap=True)
    not_run = []
    for key, row in results.items():
        if "not_run" in row:
            table.add_row(escape(row["label"]), "-", "-", "[yellow]not run[/]")
            not_run.append(f"{row['label']} was not run: {row['not_run']}")
            continue
        leak = row["leak"] or 0
        result = "[yellow]tests nothing[/]" if row["tests_nothing"] else ("[green]holds[/]" if leak == 0 else "[red]LEAKS[/]")
        table.add_row(escape(row["label"]), format_split(row["erased"]), format_split(row["base"]), result)
    console.print(table)
    for why in not_run:
        console.print(f"[yellow]{escape(why)}[/]")
    for problem in failed_checks:
        console.print(f"[red]policy:[/] {escape(problem)}")


def render_unbounded(results: dict, policy) -> None:
    """Attacks under which the person leaks that this policy does not bound: said, with what to
    do, never left as a red cell beside exit 0."""
    loose = {key.split("@")[0]: row["label"] for key, row in results.items()
             if key.split("@")[0] not in policy.attacks and "not_run" not in row and not row["tests_nothing"] and row["leak"]}
    if not loose:
        return
    console.print(f"[yellow]An erased person leaks under {len(loose)} attack(s) the {escape(policy.name)} policy does not "
                  f"bound: {escape('; '.join(loose.values()))}.[/] The verification records it and the report says so.")
    bounds = ", ".join(f"{name} = 0.0" for name in loose)
    console.print(f"next: erase them again from this release (`forgetctl erase ... --model RELEASE --request-id REQUEST`); "
                  f"a policy with `\\[attacks]` {escape(bounds)} makes verify fail on this")


def render_attack_knowledge(results: dict) -> None:
    """After each attack that changes the weights: what they know, on the erased model and the base."""
    from forgetctl_audit.report_statements import knowledge_extremes

    rows = []
    for row in (r for r in results.values() if "knowledge" in r):
        found = {w: knowledge_extremes(m for per_split in row["knowledge"].get(w, {}).values() for m in per_split.values())
                 for w in ("erased", "base")}
        rows.append((row["label"], *(f"{found[w][i]:.2f}" if found[w] else "n/a" for i in (0, 1) for w in ("erased", "base"))))
    if not rows:
        return
    table = Table(title="In the weights after the attacks that change them (worst person)")
    table.add_column("attack", overflow="fold")
    for column in ("AUC erased", "AUC base", "TR erased", "TR base"):
        table.add_column(column, no_wrap=True)
    for label, *values in rows:
        table.add_row(escape(label), *values)
    console.print(table)


def format_split(rates: dict) -> str:
    def worst(split):
        values = [r[split] for r in rates.values() if r.get(split) is not None]
        return f"{max(values):.0%}" if values else "-"

    return f"{worst('seen')} / {worst('unseen')}"
