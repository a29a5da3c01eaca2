"""Domain errors. Each message says what is wrong and what to do about it; the CLI prints it as
one red line and exits 1. No CLI imports here, so the library can be used without the CLI."""


class ForgetctlError(Exception):
    """Base class for every error a user can fix."""


class ModelLoadError(ForgetctlError):
    """A model directory is missing, incomplete, or not a LLaVA-family model."""


class PluginError(ForgetctlError):
    """A plugin failed to load, implements an unknown hook, or names a duplicate method/judge."""


class InputError(ForgetctlError):
    """User input (images, names, files, options) is unusable."""


class AuditError(ForgetctlError):
    """The audit store or its keys are missing, locked or unusable."""
