"""The example agent's answerer, in Python: it formats `answerer_prompt` with the facts the
agent retrieved and hands it to a language model, then reports how the answer did.

    npx prompts serve &                       # or: npx prompts publish, and --source dist/prompts.json
    python examples/answerer.py "What is RAG?" --infos examples/infos.json --user user-42

The model call is a stand-in (`llm` below) that echoes the prompt's size: put your provider's
client there. Prompts come from memory; usage goes to the server (or, with a bundle file, to
.prompts/usage/events.jsonl), where `npx prompts stats answerer_prompt` reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, List

from gitprompts import PromptClient, PromptsError


def llm(messages_or_text: Any, **model: Any) -> str:
    """A stand-in for a language model call: replace with your provider's client."""
    size = len(json.dumps(messages_or_text))
    return f"(an answer from {model.get('name', 'a model')} to a {size}-character prompt)"


def answer(prompts: PromptClient, question: str, infos: List[str], user: str) -> Dict[str, Any]:
    r = prompts.render("answerer_prompt", {"infos": infos, "user_query": question}, unit=user)
    started = time.perf_counter()
    reply = llm(r.text if r.text is not None else r.messages, **r.model)
    latency_ms = round((time.perf_counter() - started) * 1000)
    prompts.outcome(r.usage_id, success=True, latency_ms=latency_ms)
    return {"version": r.version, "variant": r.variant, "prompt": r.text, "answer": reply}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question")
    parser.add_argument(
        "--source",
        default="http://127.0.0.1:7411",
        help="prompts serve URL, bundle URL or bundle file",
    )
    parser.add_argument("--fallback", default=None, help="bundle file to use if the source is down")
    parser.add_argument(
        "--infos", default="examples/infos.json", help="JSON file with {infos: [...]}"
    )
    parser.add_argument("--user", default="anonymous", help="who asks (keeps their A/B variant)")
    args = parser.parse_args()
    with open(args.infos, encoding="utf-8") as file:
        infos = json.load(file)["infos"]
    try:
        with PromptClient(args.source, fallback=args.fallback) as prompts:
            result = answer(prompts, args.question, infos, args.user)
    except PromptsError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    print(f"answerer_prompt {result['version']} ({result['variant']})")
    print(result["prompt"] or "", end="")
    print(f"→ {result['answer']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
