"""Domain errors and exit codes. Each message says what is wrong and what to do about it; the
CLI prints it as one red line and exits 1. No CLI imports here, so the library can be used
without the CLI."""

from enum import IntEnum


class ExitCode(IntEnum):
    """What a forgetctl process's exit status means; each code means one thing."""

    OK = 0  # done: erased and the policy passed, or the check asked for passed
    ERROR = 1  # an error a user can fix, said in one red line (bad input, storage, a model that will not load)
    USAGE = 2  # the command line itself is wrong (typer's convention: unknown option, bad value)
    CHECK_FAILED = 3  # it ran, and the answer is no: an erasure missed its policy (nobody counts as erased),
    # a verification found tampering or a person identifiable again, or no version carries every erasure
    NOT_IDENTIFIABLE = 4  # the base model did not identify the person: nothing was trained or released
    HELD_BACK = 5  # a batch: some people erased (and released), others held back by their own checks (open)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), recorded as interrupted


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after its requests were recorded: which requests stay open, to
    continue, and by when (request id -> deadline)."""

    def __init__(self, open_requests: dict[str, str]):
        super().__init__()
        self.open_requests = open_requests


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


def unknown_name(kind: str, name: str, choices, where: str = "") -> InputError:
    """`unknown method 'pugb'; did you mean pubg? choose one of ga, npo, pubg`."""
    import difflib

    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    return InputError(f"{where}unknown {kind} {name!r}; {hint}choose one of {', '.join(choices)}")


def explain(exc: BaseException) -> str | None:
    """One line, with the path and the fix, for the operating-system and storage errors a user can
    fix (read-only or full disk, missing folder, database that cannot be written); None for
    anything else, which is a bug and keeps its traceback."""
    import errno
    import sqlite3

    text = str(exc)
    path = getattr(exc, "filename", None)
    where = f" ({path})" if path else ""
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "No space left on device" in text:
        return f"no space left on the disk{where}: free some space, or point FORGETCTL_HOME or --merge elsewhere"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly database" in text or "read-only" in text:
        return f"cannot write{where or ' the audit trail'}: it is read-only or not yours; fix its permissions or set FORGETCTL_HOME to a writable folder"
    if code == errno.ENOENT:
        return f"{path or 'a file'} does not exist"
    if isinstance(exc, sqlite3.Error):
        return f"the audit database cannot be used ({text}); check FORGETCTL_HOME and its files"
    if isinstance(exc, OSError):
        return f"{text}{where}"
    return None


def short_reason(exc: BaseException) -> str:
    """What the audit record keeps about a failure: the error's class and, for storage errors, its
    kind (never a message that could quote a path or an answer)."""
    import errno

    code = getattr(exc, "errno", None)
    kinds = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied"}
    if code in kinds:
        return f"{type(exc).__name__}: {kinds[code]}"
    if "No space left on device" in str(exc):
        return f"{type(exc).__name__}: no space left on device"
    return type(exc).__name__
