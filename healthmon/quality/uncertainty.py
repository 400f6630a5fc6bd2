"""How sure the model was of its own answer, from the generation's own logits: a hallucination-risk signal.

The unsupervised estimators LM-Polygraph benchmarks, computed from what fluency.TokenLogprobRecorder keeps
(each generated token's log-probability and the entropy of the distribution it was drawn from, under the raw
logits):
  lowest_token_nll     mean negative log-probability of the LOWEST_TOKENS least likely tokens the model chose
                       among the answer's first HEAD_TOKENS: the `low_confidence` signal
  mean_token_entropy   mean entropy (nats) of the per-token distributions (LM-Polygraph MeanTokenEntropy)
  min_token_logprob    the least likely token the model chose
  sequence_logprob     sum of the token log-probabilities; minus it is Maximum Sequence Probability
  mean_logprob         the length-normalized form; perplexity = exp(-mean_logprob)

Why lowest_token_nll. A wrong factual answer is decided at a few tokens (the name, the number, the year); the
rest of the answer is fluent filler the model is sure of, which dilutes a mean over every token. Measured on
162 greedy SmolLM2-135M answers to short factual questions (benchmarks/data/factual_answers.jsonl,
bench_confidence.py): in English (41 wrong, 40 right) its AUROC for wrong vs right is 0.82 against 0.77 for
mean token entropy, 0.79 for Maximum Sequence Probability, 0.74 for the single lowest token and 0.74 for max
token entropy. Flagged above LOW_CONFIDENCE_ABOVE it catches 24 of the 41 wrong English answers (0.59) at
precision 0.77, where the previous flag (mean entropy above 1.6 nats) caught 0.49 at 0.71. The line was picked
on this set (in-sample); cross-validated it holds 0.54 at 0.76, and BENCHMARKS.md adds the developers' own
labeled set as a second check. The mean of a few lowest is steadier than the single lowest, which one odd
token decides. Reading only the head keeps a long answer from being flagged for its length alone: the set's
answers are at most 48 tokens, within which a short factual answer states its claim. In Chinese SmolLM2
answered 79 of 81 questions wrongly (loops, echoes of the question, invented words): the flag catches 76 of
them, and flags both right ones, too few to give a false-alarm rate. Many wrong answers are confident (sums,
"Istanbul"): no logit signal of this model sees them.
The flag is raised only where the prompt asks for one checkable fact (relevance.asks_for_fact: a sum, a count,
who / where / when / which, "the X of Y", short): a free answer chooses among many right words, so its unlikely
tokens flag nothing wrong. On SmolLM2's good answers to open prompts in quality_eval.jsonl it fired on 24 of 37
(27 open-en, 10 translations, code and language requests) and now on 1 of 37 ("What are the benefits of
drinking water?", read as "the X of Y"); every factual prompt of both sets is recognized (196 of 196), so
precision and recall on them do not move (benchmarks/bench_confidence_scope.py, offline, in-sample). The quality_score's
confidence part still reads mean token entropy, as before, so the score and the other flags do not move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from healthmon.curve import Curve

LOW_CONFIDENCE_ABOVE = 1.6  # nats of lowest_token_nll (the 5 least likely tokens at a mean p of about 0.2)
LOWEST_TOKENS = 5
HEAD_TOKENS = 48
CONFIDENCE_CURVE = Curve(good=0.6, bad=2.4)  # on mean token entropy, for the quality_score's confidence part


_CLOSING = ("\u3002", "\uff01", "\uff1f")  # 。！？: a CJK sentence ends there whatever follows
_ENDING = (".", "!", "?")  # ends a sentence only before a space or the end: "3.14", "e.g" and "1." do not


def first_sentence_tokens(token_texts: Sequence[str]) -> int:
    """How many of the answer's first tokens make its first sentence: up to the first token, after two tokens
    with content (letters, digits, a piece of a multi-byte character), that holds a line break, ends in a CJK
    full stop, or ends in . ! ? before a token starting with a space (or the end). All of them when none does.

    A factual answer states its claim in its first sentence; what follows is filler the claim's confidence
    should not read ("The chemical symbol for gold is Au. It is a metal that is used to make coins...")."""
    content = 0
    for index, text in enumerate(token_texts):
        content += any(char.isalnum() for char in text) or "\ufffd" in text
        if content < 2:
            continue
        end = text.rstrip(" ")
        following = token_texts[index + 1] if index + 1 < len(token_texts) else ""
        if "\n" in text or end.endswith(_CLOSING) or (end.endswith(_ENDING) and following[:1] in ("", " ", "\n")):
            return index + 1
    return len(token_texts)


def lowest_token_nll(token_logprobs: Sequence[float] | None, head_tokens: int = HEAD_TOKENS) -> float | None:
    """Mean -log p of the LOWEST_TOKENS least likely chosen tokens of the first head_tokens (at most
    HEAD_TOKENS; all, when fewer); None without tokens."""
    head = sorted(list(token_logprobs or [])[:min(head_tokens, HEAD_TOKENS)])[:LOWEST_TOKENS]
    return -math.fsum(head) / len(head) if head else None


def uncertainty(token_logprobs: Sequence[float] | None, token_entropies: Sequence[float] | None) -> dict[str, Any]:
    """The estimators above, None where the generation did not measure them (or produced no token)."""
    logprobs = list(token_logprobs or [])
    entropies = list(token_entropies or [])
    mean = math.fsum(logprobs) / len(logprobs) if logprobs else None
    lowest = lowest_token_nll(logprobs)
    return {
        "mean_logprob": None if mean is None else round(mean, 4),
        "perplexity": None if mean is None else round(math.exp(-mean), 4),
        "sequence_logprob": round(math.fsum(logprobs), 3) if logprobs else None,
        "min_token_logprob": round(min(logprobs), 4) if logprobs else None,
        "mean_token_entropy": round(math.fsum(entropies) / len(entropies), 4) if entropies else None,
        "lowest_token_nll": None if lowest is None else round(lowest, 4),
    }


def low_confidence(quality: Mapping[str, Any]) -> bool:
    """The hallucination-risk flag: the prompt asks for one checkable fact (asks_for_fact) and the answer's least
    likely tokens were below what a sure answer has. An open answer chooses among many right words, so its
    unlikely tokens say nothing about being wrong."""
    return (bool(quality.get("asks_for_fact")) and quality.get("lowest_token_nll") is not None
            and quality["lowest_token_nll"] > LOW_CONFIDENCE_ABOVE)
