"""Prompts for the load benchmark, varied so that no two requests share a cacheable prefix.

Servers with a prefix cache (llama.cpp, vLLM's automatic prefix caching, SGLang's radix cache)
answer a repeated prompt's prefill almost for free: on llama.cpp a repeated prompt's TTFT is
about 100x smaller. A benchmark that replays one prompt therefore measures the cache, not the
model. Every prompt here starts with a per-request nonce, so the shared prefix is at most the
chat template's own header.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

#: Tokens per English word for common BPE vocabularies; used only to size synthetic prompts
#: and to estimate input tokens when the server reports no usage (the source says so).
TOKENS_PER_WORD = 1.3
MAX_PROMPT_FILE_BYTES = 64 * 1024 * 1024
MAX_PROMPTS = 100_000


@dataclass(frozen=True)
class BenchPrompt:
    messages: list[dict[str, str]]
    input_estimate: int
    max_tokens: int


@cache
def _bench_data() -> dict[str, Any]:
    path = resources.files("modelclear") / "data" / "probes" / "bench-prompts.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def estimate_tokens(text: str) -> int:
    return max(1, round(len(text.split()) * TOKENS_PER_WORD))


def _nonce(rng: random.Random, index: int) -> str:
    return f"[request {index:06d}-{rng.getrandbits(40):010x}]"


class PromptSource:
    """Yields an endless, deterministic (given the seed) sequence of distinct prompts."""

    def __init__(
        self,
        input_len: int = 128,
        output_len: int = 64,
        seed: int = 0,
        prompt_file: Path | None = None,
    ) -> None:
        if input_len < 1 or output_len < 1:
            raise InputError(None, "input and output lengths must be at least 1 token")
        self.input_len = input_len
        self.output_len = output_len
        self.rng = random.Random(seed)
        self.index = 0
        self.file_prompts = _load_prompt_file(prompt_file) if prompt_file else None
        data = _bench_data()
        self.words: list[str] = data["words"]
        self.tasks: list[str] = data["tasks"]

    def next(self) -> BenchPrompt:
        i = self.index
        self.index += 1
        nonce = _nonce(self.rng, i)
        if self.file_prompts is not None:
            base = self.file_prompts[i % len(self.file_prompts)]
            msgs = [dict(m) for m in base]
            # The nonce goes first in the first message so the cacheable prefix ends there.
            msgs[0]["content"] = f"{nonce} {msgs[0]['content']}"
            text = " ".join(m["content"] for m in msgs)
            return BenchPrompt(msgs, estimate_tokens(text), self.output_len)
        task = self.tasks[i % len(self.tasks)]
        header = f"{nonce} {task}"
        budget = max(0, round(self.input_len / TOKENS_PER_WORD) - len(header.split()))
        filler = " ".join(self.rng.choice(self.words) for _ in range(budget))
        content = f"{header}\n\n{filler}".rstrip()
        return BenchPrompt([{"role": "user", "content": content}], estimate_tokens(content),
                           self.output_len)


def _load_prompt_file(path: Path) -> list[list[dict[str, str]]]:
    """Plain text (one prompt per line) or JSONL with ``prompt`` or ``messages`` per line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(str(path), f"cannot read prompt file: {exc.strerror}") from None
    if size > MAX_PROMPT_FILE_BYTES:
        raise InputError(str(path), f"prompt file larger than {MAX_PROMPT_FILE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    out: list[list[dict[str, str]]] = []
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not jsonl:
            out.append([{"role": "user", "content": line.strip()}])
        else:
            try:
                obj = json.loads(line)
            except ValueError:
                raise InputError(f"{path}:{lineno}", "not a JSON object") from None
            out.append(_messages_of(obj, f"{path}:{lineno}"))
        if len(out) > MAX_PROMPTS:
            raise InputError(str(path), f"more than {MAX_PROMPTS} prompts")
    if not out:
        raise InputError(str(path), "no prompts in file")
    return out


def _messages_of(obj: Any, where: str) -> list[dict[str, str]]:
    if isinstance(obj, dict) and isinstance(obj.get("prompt"), str):
        return [{"role": "user", "content": obj["prompt"]}]
    if isinstance(obj, dict) and isinstance(obj.get("messages"), list) and obj["messages"]:
        msgs = []
        for m in obj["messages"]:
            if (
                not isinstance(m, dict)
                or m.get("role") not in ("system", "user", "assistant")
                or not isinstance(m.get("content"), str)
            ):
                raise InputError(where, "each message needs a role and string content")
            msgs.append({"role": m["role"], "content": m["content"]})
        return msgs
    raise InputError(where, 'expected {"prompt": "..."} or {"messages": [...]}')
