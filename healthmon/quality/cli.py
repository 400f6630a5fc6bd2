"""`python -m healthmon quality`: the quality of prompt/response pairs, as the monitor would store it, as JSON lines.

    python -m healthmon quality --prompt TEXT --response TEXT [--finish-reason length]
    python -m healthmon quality --jsonl answers.jsonl        # or - for standard input

The same functions as the live path (metrics.text_quality, relevance.relevance, metrics.with_relevance), with
relevance computed at once: one JSON object per input with quality_score, flags and every signal. Perplexity
and the uncertainty figures are null here: they need the logits of the model that wrote the response. In a
JSON-lines file each line is {"prompt": ..., "response": ...} (optionally "finish_reason"); a line that is
not such an object gets an {"line": N, "error": ...} line and the rest go on. The exit code is 0 unless the
input file cannot be read at all; a missing embedding model leaves relevance null with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from healthmon.quality.embedder import DEFAULT_EMBEDDING_MODEL, Embedder, EmbedderUnavailable, load_embedder
from healthmon.quality.metrics import text_quality, with_relevance
from healthmon.quality.relevance import relevance

EMBEDDING_MODEL_ENV = "HEALTHMON_EMBEDDING_MODEL"
FINISH_REASONS = ("stop", "length", "cancelled")


def score_text(prompt: str, response: str, finish_reason: str, embedding_model: str) -> dict:
    """The quality the monitor would store for this prompt and response (without the model's logits)."""
    return next(score_pairs([(prompt, response, finish_reason)], embedding_model))


def score_pairs(pairs: Iterable[tuple[str, str, str]], embedding_model: str) -> Iterator[dict[str, Any]]:
    """Quality for each (prompt, response, finish_reason), loading the embedding model once, on first need."""
    embedder: Embedder | None = None
    unavailable: str | None = None
    for prompt, response, finish_reason in pairs:
        quality = text_quality(prompt, response, finish_reason)
        if embedder is None and unavailable is None:
            try:
                embedder = load_embedder(embedding_model)
            except EmbedderUnavailable as exc:
                unavailable = str(exc)
        if embedder is None:
            yield with_relevance(quality, None, unavailable)
        else:
            measured = relevance(embedder, prompt, response)
            yield with_relevance(quality, measured.value, measured.reason, embedder.name, measured.method)


def parse_line(line: str) -> tuple[str, str, str]:
    """One JSON-lines input, or ValueError saying what is wrong with it."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(item, dict):
        raise ValueError(f"expected an object with prompt and response, got {type(item).__name__}")
    prompt, response = item.get("prompt"), item.get("response")
    if not isinstance(prompt, str) or not isinstance(response, str):
        raise ValueError("'prompt' and 'response' must both be strings")
    finish_reason = item.get("finish_reason", "stop")
    if finish_reason not in FINISH_REASONS:
        raise ValueError(f"'finish_reason' must be one of {list(FINISH_REASONS)}, got {finish_reason!r}")
    return prompt, response, finish_reason


def score_jsonl(lines: TextIO, out: TextIO, embedding_model: str) -> int:
    """Score every line; bad ones become error lines. Returns how many lines were scored."""
    good: list[tuple[int, tuple[str, str, str]]] = []
    results: dict[int, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            good.append((number, parse_line(line)))
        except ValueError as exc:
            results[number] = {"line": number, "error": str(exc)}
    for (number, _), quality in zip(good, score_pairs((pair for _, pair in good), embedding_model), strict=True):
        results[number] = {"line": number, **quality}
    for number in sorted(results):
        out.write(json.dumps(results[number], ensure_ascii=False) + "\n")
    return len(good)


def run(args: argparse.Namespace) -> int:
    if args.jsonl is None:
        if args.prompt is None or args.response is None:
            print("quality: give --prompt and --response, or --jsonl FILE", file=sys.stderr)
            return 2
        print(json.dumps(score_text(args.prompt, args.response, args.finish_reason, args.embedding_model),
                         ensure_ascii=False))
        return 0
    if args.jsonl == "-":
        score_jsonl(sys.stdin, sys.stdout, args.embedding_model)
        return 0
    try:
        with open(args.jsonl, encoding="utf-8") as handle:
            score_jsonl(handle, sys.stdout, args.embedding_model)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"quality: cannot read {args.jsonl}: {exc}", file=sys.stderr)
        return 1
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `quality` on the CLI's subcommands."""
    parser = commands.add_parser("quality", help="score prompt/response pairs as the monitor would",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", help="the prompt text")
    parser.add_argument("--response", help="the response text")
    parser.add_argument("--jsonl", metavar="FILE", help="score every {prompt, response} line of FILE (- for stdin)")
    parser.add_argument("--finish-reason", default="stop", choices=FINISH_REASONS,
                        help="how the generation ended ('length': cut at max_new_tokens); default stop")
    parser.add_argument("--embedding-model", default=os.environ.get(EMBEDDING_MODEL_ENV, DEFAULT_EMBEDDING_MODEL),
                        help=f"embedding model for relevance, or 'off'; default ${EMBEDDING_MODEL_ENV} "
                             f"or {DEFAULT_EMBEDDING_MODEL}")
    parser.set_defaults(run=run)
