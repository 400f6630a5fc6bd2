"""Degeneration signals of one answer: repeated n-grams, how well it compresses, and a loop at its end.

A looping model repeats a word, a phrase or a sentence, often after a good start, until max_new_tokens cuts
it, usually mid-repetition. Three views of that, on text units (words, or characters for Chinese: see
metrics.text_units), each cheap:
  repetition_rate    rep-3: the share of 3-grams that repeat an earlier one (Welleck et al. 2019)
  compression_ratio  UTF-8 bytes / zlib-compressed bytes, as Whisper uses to catch its own loops: prose
                     compresses to ~1.5-2.2, a loop far better; meaningless on short texts
  loop_share         the share of the answer's units taken by a block repeated back to back at its end
                     (at least LOOP_MIN_REPEATS times; a last, partial repetition is allowed)

>>> loop = tail_loop("a good start then la francine la francine la francine la franc".split())
>>> loop.period_units, loop.repeats, round(loop.share, 2)
(2, 3, 0.58)
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from healthmon.curve import Curve

LOOP_MIN_REPEATS = 3
LOOP_MAX_PERIOD_UNITS = 64  # a repeated paragraph longer than this is rare, and rep-3 sees it anyway
COMPRESSION_MIN_BYTES = 120  # below this, zlib's header dominates and the ratio says nothing
MIN_UNITS = 8  # a one-line answer cannot loop in any sense that matters

# Scores 0-100 per signal (100 = no sign of degeneration); the degeneration score is the worst of them.
REPETITION_CURVE = Curve(good=0.15, bad=0.5)
COMPRESSION_CURVE = Curve(good=2.0, bad=3.2)
LOOP_CURVE = Curve(good=0.15, bad=0.5)
DEGENERATE_BELOW = 50.0


@dataclass(frozen=True)
class TailLoop:
    period_units: int
    repeats: int
    share: float  # of all units


NO_LOOP = TailLoop(0, 0, 0.0)


def tail_loop(units: Sequence[str]) -> TailLoop:
    """The block repeated back to back at the end of units that covers most of them; NO_LOOP when none repeats
    LOOP_MIN_REPEATS times. The last repetition may be cut short (a partial block, or a word cut in half)."""
    n, best = len(units), NO_LOOP
    for period in range(1, min(LOOP_MAX_PERIOD_UNITS, n // LOOP_MIN_REPEATS) + 1):
        if best.period_units and period % best.period_units == 0:
            continue  # a multiple of a loop's period covers the same units again
        for cut in range(period):  # how many units of a last, partial repetition to set aside first
            end = n - cut
            block = units[end - period:end]
            if cut and not _starts_like(units[end:], block):
                continue
            repeats = 1
            while (end - (repeats + 1) * period >= 0
                   and units[end - (repeats + 1) * period:end - repeats * period] == block):
                repeats += 1
            share = (repeats * period + cut) / n
            if repeats >= LOOP_MIN_REPEATS and share > best.share:
                best = TailLoop(period, repeats, share)
    return best


def _starts_like(tail: Sequence[str], block: Sequence[str]) -> bool:
    """A partial repetition: the tail is the block's beginning, its last unit possibly cut mid-word."""
    if len(tail) > len(block):
        return False
    *whole, last = tail
    return list(whole) == list(block[:len(whole)]) and block[len(whole)].startswith(last)


def compression_ratio(text: str) -> float | None:
    """UTF-8 bytes over zlib-compressed bytes; None for texts too short to say anything."""
    raw = text.encode("utf-8")
    if len(raw) < COMPRESSION_MIN_BYTES:
        return None
    return len(raw) / len(zlib.compress(raw, 9))


def degeneration_score(units_count: int, repetition: float | None, compression: float | None,
                       loop_share: float) -> float | None:
    """The worst of the three signals' scores, 0-100; None for an answer too short to judge. An answer of few
    words can still be long: "上海是？？？？…" loops in punctuation, which units drop and compression sees."""
    if units_count < MIN_UNITS:
        return None if compression is None else round(COMPRESSION_CURVE(compression), 1)
    scores = [LOOP_CURVE(loop_share)]
    if repetition is not None:
        scores.append(REPETITION_CURVE(repetition))
    if compression is not None:
        scores.append(COMPRESSION_CURVE(compression))
    return round(min(scores), 1)
