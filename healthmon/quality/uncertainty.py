"""How sure the model was of its own answer, from the generation's own logits: a hallucination-risk signal.

The unsupervised estimators LM-Polygraph benchmarks, computed from what the generation keeps (each generated
token's log-probability and the entropy of the distribution it was drawn from, under the raw logits):
  first_sentence_nll   -sum log p of the tokens of the answer's first sentence (at most HEAD_TOKENS): Maximum
                       Sequence Probability of its claim, LM-Polygraph's claim-level idea; the `low_confidence`
                       signal. The runtime finds the sentence in the tokens it decoded (first_sentence_tokens)
  lowest_token_nll     mean -log p of the LOWEST_TOKENS least likely chosen tokens of the first HEAD_TOKENS
  mean_token_entropy   mean entropy (nats) of the per-token distributions (LM-Polygraph MeanTokenEntropy)
  min_token_logprob    the least likely token the model chose
  sequence_logprob     sum of the token log-probabilities; minus it is Maximum Sequence Probability
  mean_logprob         the length-normalized form; perplexity = exp(-mean_logprob)

Why the first sentence. A short factual answer states its claim first ("The chemical symbol for gold is Au."), and
what follows is filler ("It is a metal that is used to make coins…") whose unlikely words made the previous
signal (lowest_token_nll, the 5 least likely of the first 48) flag right answers. Decided on a held-out set:
three first-sentence candidates and their lines were committed (a2cf590) before 60 new questions were written,
answered by SmolLM2-135M and labeled by reading (benchmarks/data/factual_answers_heldout.jsonl), and the rule
fixed beforehand picked this one. English, precision / recall of "wrong", line alone (bench_confidence.py):
  in-sample (factual_answers.jsonl, 41 wrong / 40 right)   0.80 / 0.68   (lowest_token_nll > 1.6: 0.77 / 0.59)
  held out (36 wrong / 24 right)                           0.76 / 0.69   (lowest_token_nll > 1.6: 0.75 / 0.50)
In Chinese SmolLM2 answered 79 of 81 and 60 of 60 questions wrongly; there this signal catches fewer (recall 0.68
and 0.67, against 0.96 and 0.95), because its loops start with a confident echo of the question and the first
sentence is that echo; those answers are flagged `degenerate` as well. Many wrong answers are confident ("11 × 12
= 122.", "The capital of Turkey is Istanbul."): no logit signal of this model sees them.
The flag is raised only where the prompt asks for one checkable fact (relevance.asks_for_fact: a sum, a count,
who / where / when / which, "the X of Y", short): a free answer chooses among many right words, so its unlikely
tokens flag nothing wrong (on SmolLM2's good answers to open prompts in quality_eval.jsonl the ungated flag fired
on 24 of 37). The quality_score's confidence part reads mean token entropy, so the score does not move with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from healthmon.curve import Curve

# nats of first_sentence_nll: a claim of ten tokens at a mean p of about 0.37 each, or one token at p = 5e-5
LOW_CONFIDENCE_ABOVE = 9.84
LOWEST_TOKENS = 5
HEAD_TOKENS = 48
CONFIDENCE_CURVE = Curve(good=0.6, bad=2.4)  # on mean token entropy, for the quality_score's confidence part


_CLOSING = ("\u3002", "\uff01", "\uff1f")  # 。！？: a CJK sentence ends there whatever follows
_ENDING = (".", "!", "?")  # ends a sentence only before a space or the end: "3.14", "e.g" and "1." do not
_QUOTES_AFTER = "\"”'’)]」』"  # 'He said "Paris." Then…': the sentence ends inside the quotation
# a period after one of these ends no sentence: "Mt. Everest", "by Dr. Seuss", "of the U.S. was"
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Mt|No|vs|etc|approx|Jr|Sr|Prof|Inc|Ltd|Co|U\.S|"
                           r"e\.g|i\.e)\.$")


def first_sentence_tokens(token_texts: Sequence[str], prompt: str = "") -> int:
    """How many of the answer's first tokens make its first sentence: up to the first token, after some content
    (letters, digits, a piece of a multi-byte character), that holds a line break, or after two tokens of it,
    ends in a CJK full stop, or in . ! ? before a token starting with a space (or the end) and after no
    abbreviation. A sentence the prompt holds word for word is an echo of the question, not a claim: the claim
    is the first sentence after it ("法国的首都是哪里？" then the answer). All of them when none ends. token_texts:
    what each token adds to the decoded text (token_texts_of).

    A factual answer states its claim in its first sentence; what follows is filler the claim's confidence
    should not read ("The chemical symbol for gold is Au. It is a metal that is used to make coins...")."""
    content, text_so_far, sentence_start = 0, "", 0
    for index, text in enumerate(token_texts):
        content += any(char.isalnum() for char in text) or "\ufffd" in text
        text_so_far += text
        following = token_texts[index + 1] if index + 1 < len(token_texts) else ""
        end = text.rstrip(" ").rstrip(_QUOTES_AFTER)
        if (content and "\n" in text) or (content >= 2 and (end.endswith(_CLOSING) or (
                end.endswith(_ENDING) and following[:1] in ("", " ", "\n")
                and not _ABBREVIATION.search(text_so_far.rstrip(" ").rstrip(_QUOTES_AFTER))))):
            # a character split over tokens left a U+FFFD before its whole self in the concatenation
            sentence = text_so_far[sentence_start:].replace("\ufffd", "").strip(" \n:：")
            if not (prompt and sentence and sentence in prompt):
                return index + 1
            content, sentence_start = 0, len(text_so_far)  # an echo: the claim comes after it
    return len(token_texts)


def token_texts_of(prefix_texts: Sequence[str]) -> list[str]:
    """What each token adds to the decoded text, from the decoded text of the answer's first 1, 2, … tokens.
    Decoding tokens one by one is wrong for tokenizers that drop a token's leading space alone (Llama's
    SentencePiece: "Au." "It") and for a character split over tokens (SmolLM2's "！" decodes to two U+FFFD);
    the difference of successive prefixes is what a reader sees, the U+FFFD replaced once the character is whole."""
    texts, previous = [], ""
    for prefix in prefix_texts:
        common = 0
        for mine, theirs in zip(previous, prefix, strict=False):
            if mine != theirs:
                break
            common += 1
        texts.append(prefix[common:])
        previous = prefix
    return texts


def lowest_token_nll(token_logprobs: Sequence[float] | None, head_tokens: int = HEAD_TOKENS) -> float | None:
    """Mean -log p of the LOWEST_TOKENS least likely chosen tokens of the first head_tokens (at most
    HEAD_TOKENS; all, when fewer); None without tokens."""
    head = sorted(list(token_logprobs or [])[:min(head_tokens, HEAD_TOKENS)])[:LOWEST_TOKENS]
    return -math.fsum(head) / len(head) if head else None


def first_sentence_nll(token_logprobs: Sequence[float] | None, sentence_tokens: int | None) -> float | None:
    """-sum log p of the first sentence's tokens, at most HEAD_TOKENS of them (the whole head when the sentence's
    length is unknown): Maximum Sequence Probability of the answer's claim. None without tokens."""
    head = list(token_logprobs or [])[:min(HEAD_TOKENS if sentence_tokens is None else sentence_tokens, HEAD_TOKENS)]
    return -math.fsum(head) if head else None


def uncertainty(token_logprobs: Sequence[float] | None, token_entropies: Sequence[float] | None,
                sentence_tokens: int | None = None) -> dict[str, Any]:
    """The estimators above, None where the generation did not measure them (or produced no token);
    sentence_tokens: first_sentence_tokens of the answer's token texts, where they were decoded."""
    logprobs = list(token_logprobs or [])
    entropies = list(token_entropies or [])
    mean = math.fsum(logprobs) / len(logprobs) if logprobs else None
    lowest = lowest_token_nll(logprobs)
    claim = first_sentence_nll(logprobs, sentence_tokens)
    return {
        "mean_logprob": None if mean is None else round(mean, 4),
        "perplexity": None if mean is None else round(math.exp(-mean), 4),
        "sequence_logprob": round(math.fsum(logprobs), 3) if logprobs else None,
        "min_token_logprob": round(min(logprobs), 4) if logprobs else None,
        "mean_token_entropy": round(math.fsum(entropies) / len(entropies), 4) if entropies else None,
        "lowest_token_nll": None if lowest is None else round(lowest, 4),
        "first_sentence_nll": None if claim is None else round(claim, 4),
    }


def low_confidence(quality: Mapping[str, Any]) -> bool:
    """The hallucination-risk flag: the prompt asks for one checkable fact (asks_for_fact) and the answer's first
    sentence, its claim, was less likely than a sure answer's. An open answer chooses among many right words, so
    its unlikely tokens say nothing about being wrong."""
    return (bool(quality.get("asks_for_fact")) and not quality.get("empty")
            and quality.get("first_sentence_nll") is not None and quality["first_sentence_nll"] > LOW_CONFIDENCE_ABOVE)
