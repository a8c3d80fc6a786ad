"""The errors gitprompts raises: one tree under `PromptsError`, each with the stable `code` of
the CLI and the TypeScript client (`E_PROMPT_NOT_FOUND`, `E_INVALID_INPUT`, …)."""

from __future__ import annotations

from typing import Sequence

__all__ = [
    "PromptsError",
    "PromptNotFound",
    "InvalidVariables",
    "MissingVariables",
    "UnknownVariant",
    "InvalidBundle",
    "NotReady",
    "NothingToServe",
    "SourceError",
    "DroppedEvents",
]


class PromptsError(Exception):
    """An error the caller can act on. `code` is stable across versions and languages; the
    message is one line naming the thing at fault; `details` lists each problem."""

    code: str = "E_INVALID_INPUT"

    def __init__(self, message: str, *, details: Sequence[str] = (), code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details: tuple[str, ...] = tuple(details)
        if code is not None:
            self.code = code


class PromptNotFound(PromptsError):
    """No prompt of that name is loaded (or a partial it includes is missing)."""

    code = "E_PROMPT_NOT_FOUND"


class InvalidVariables(PromptsError):
    """The variables given to `render` do not fit the prompt: unknown, mistyped or missing ones.
    `details` has one line per problem."""

    code = "E_INVALID_INPUT"


class MissingVariables(InvalidVariables):
    """A required variable was not given (among, possibly, other problems)."""


class UnknownVariant(PromptsError):
    """The variant asked for is none of the prompt's."""

    code = "E_INVALID_INPUT"


class InvalidBundle(PromptsError):
    """A bundle was refused: not JSON, another format, a hash that does not match, a bad prompt."""

    code = "E_INVALID_INPUT"


class NotReady(PromptsError):
    """`get`/`render` before `ready()` loaded anything."""

    code = "E_USAGE"


class NothingToServe(PromptsError):
    """`ready()` found no prompts at all: the source cannot be read and there is no fallback."""

    code = "E_IO"


class SourceError(PromptsError):
    """A refresh, the event stream or the usage sink failed (given to `on_error`; the client
    goes on with its last good prompts)."""

    code = "E_IO"


class DroppedEvents(PromptsError):
    """Usage events dropped for good: they could not be written as JSON, or the sink refused them."""

    code = "E_INVALID_INPUT"

    def __init__(self, count: int, reason: str):
        what = "1 usage event" if count == 1 else f"{count} usage events"
        super().__init__(f"{what} dropped: {reason}")
        self.count = count
