"""What a method plugin is: typed options with the paper's defaults, an optional `prepare`, and
one `loss`. Torch-free, so listing plugins and validating a request never load torch; a method
imports its tensor code where it computes a loss."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from forgetctl.errors import InputError

if TYPE_CHECKING:
    import torch

    from forgetctl.engine.unlearning import UnlearningContext
    from forgetctl.types import Example


class MethodOptions(BaseModel):
    """A method's hyperparameters, declared as typed fields with the paper's defaults (like llm's
    `Options`). Unknown keys and values of the wrong type are refused before any work starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def pydantic_problem(exc: ValidationError) -> str:
    """A pydantic error as one line: `field: message` for each problem."""
    return "; ".join(
        (".".join(str(part) for part in error["loc"]) + ": " if error["loc"] else "") + error["msg"]
        for error in exc.errors()
    )


class Configurable:
    """A plugin class with typed `Options`: validated once from what the user gave, one line on error."""

    name: str = ""
    Options: type[MethodOptions] = MethodOptions
    options_flag = "--method-option for"  # how the user gave them, for the error line

    def __init__(self, options: MethodOptions | None = None):
        self.options = options if options is not None else self.Options()

    @classmethod
    def parse_options(cls, raw: dict) -> MethodOptions:
        """Validate the user's values against this class's declared options."""
        try:
            return cls.Options(**raw)
        except ValidationError as exc:
            raise InputError(f"bad {cls.options_flag} {cls.name}: {pydantic_problem(exc)}") from None


class UnlearningMethod(Configurable):
    """Base class of method plugins: typed `Options`, an optional `prepare`, one `loss`."""

    # Learning rate per model family (see loading.model_family): PUBG Table 6 for the 7B
    # LLaVA-1.6 models; "tiny" was tuned on the small test worlds (a few-million-parameter model
    # needs 10-100x the 7B rates in 30 steps); "default" when the family is not listed.
    learning_rates: dict[str, float] = {"default": 1e-4}

    def prepare(self, ctx: "UnlearningContext", forget: list[Example]) -> None:
        """Compute anything constant before training (reference samples, reference log-probs)."""

    def loss(self, ctx: "UnlearningContext", forget: list[Example]) -> torch.Tensor:
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        return self.options.model_dump()


