"""gitprompts for Python: the prompts of a gitprompts repository, for agents written in Python.

from gitprompts import PromptClient

prompts = PromptClient("http://127.0.0.1:7411", fallback="dist/prompts.json", watch=True)
prompts.ready()
r = prompts.render("answerer_prompt", {"infos": infos, "user_query": q}, unit=user_id)
prompts.outcome(r.usage_id, success=True, score=0.9, latency_ms=812)
prompts.close()
"""

from ._bundle import Bundle, Prompt, parse_bundle
from ._render import Rendered, render_prompt
from ._usage import RefusedBatch
from .client import PromptClient, Update
from ._variants import choose_variant, unit_bucket
from .errors import (
    DroppedEvents,
    InvalidBundle,
    InvalidVariables,
    MissingVariables,
    NothingToServe,
    NotReady,
    PromptNotFound,
    PromptsError,
    SourceError,
    UnknownVariant,
)

__version__ = "0.1.0"

__all__ = [
    "Bundle",
    "DroppedEvents",
    "InvalidBundle",
    "InvalidVariables",
    "MissingVariables",
    "NothingToServe",
    "NotReady",
    "Prompt",
    "PromptClient",
    "PromptNotFound",
    "PromptsError",
    "RefusedBatch",
    "Rendered",
    "SourceError",
    "UnknownVariant",
    "Update",
    "choose_variant",
    "parse_bundle",
    "render_prompt",
    "unit_bucket",
]
