"""`forgetctl models`: the vision-language families forgetctl drives, and how it drives each."""

import typer
from rich.table import Table

from forgetctl.cli.ui import console


def list_models(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Each supported family (config.json's model_type): whether it builds its own positions, how
    its processor takes images, and whether its projector can take LoRA (--json: the class that
    loads it and the exact LoRA module patterns)."""
    import json
    from dataclasses import asdict

    from forgetctl.engine.families import FAMILIES, lora_target

    if as_json:
        typer.echo(json.dumps({k: {**asdict(f), "lora": {w: lora_target(f, w) for w in ("language", "language+projector")}}
                               for k, f in FAMILIES.items()}, indent=2))
        return
    table = Table(title="Supported model families (--model DIR: config.json's model_type)")
    table.add_column("model_type", no_wrap=True)
    table.add_column("positions", no_wrap=True)
    table.add_column("images", no_wrap=True)
    table.add_column("projector LoRA", no_wrap=True)
    for model_type, f in FAMILIES.items():
        table.add_row(model_type, "its own (M-RoPE)" if f.builds_positions else "given",
                      "per prompt" if f.images_per_prompt else "flat", "yes" if f.projector else "no (none)")
    console.print(table)
    console.print("LoRA trains the decoder's linear layers; `--lora-targets language+projector` adds the projector's. "
                  "`forgetctl models --json` gives each family's class and exact module patterns.")
