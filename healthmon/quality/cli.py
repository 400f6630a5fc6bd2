"""`python -m healthmon quality --prompt TEXT --response TEXT`: one JSON object with the response's quality.

The same functions as the live path (metrics.text_quality, embedder.relevance, metrics.with_relevance), with
relevance computed synchronously. Perplexity and mean_logprob are null here: they need the model that wrote
the response. Exit code 0 even when the embedding model cannot load (relevance is then null with a reason).
"""

from __future__ import annotations

import argparse
import json
import os

from healthmon.quality.embedder import DEFAULT_EMBEDDING_MODEL, EmbedderUnavailable, load_embedder, relevance
from healthmon.quality.metrics import text_quality, with_relevance

EMBEDDING_MODEL_ENV = "HEALTHMON_EMBEDDING_MODEL"


def score_text(prompt: str, response: str, finish_reason: str, embedding_model: str) -> dict:
    """The quality the monitor would store for this prompt and response (without the model's perplexity)."""
    quality = text_quality(prompt, response, finish_reason)
    try:
        embedder = load_embedder(embedding_model)
    except EmbedderUnavailable as exc:
        return with_relevance(quality, None, str(exc))
    return with_relevance(quality, *relevance(embedder, prompt, response), embedder.name)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(score_text(args.prompt, args.response, args.finish_reason, args.embedding_model),
                     ensure_ascii=False))
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `quality` on the CLI's subcommands."""
    parser = commands.add_parser("quality", help="score one prompt/response pair as the monitor would",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", required=True, help="the prompt text")
    parser.add_argument("--response", required=True, help="the response text")
    parser.add_argument("--finish-reason", default="stop", choices=("stop", "length", "cancelled"),
                        help="how the generation ended ('length': cut at max_new_tokens); default stop")
    parser.add_argument("--embedding-model", default=os.environ.get(EMBEDDING_MODEL_ENV, DEFAULT_EMBEDDING_MODEL),
                        help=f"sentence-transformers model for relevance, or 'off'; default ${EMBEDDING_MODEL_ENV} "
                             f"or {DEFAULT_EMBEDDING_MODEL}")
    parser.set_defaults(run=run)
