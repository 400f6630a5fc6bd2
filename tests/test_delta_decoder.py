"""The streamed deltas of an in-process answer: they add up to the answer decoded whole, on the demo model's and
the packaged SmolLM2's tokenizers, in English, Chinese and emoji, and each token costs a decode of a few tokens,
not of the whole answer."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from healthmon.runtime.gguf import packaged_gguf
from healthmon.runtime.stream import DeltaDecoder

TEXTS = ["The CPU executes instructions.  Two spaces, then\nnew lines\n\n and   more.",
         "长城是中国古代的军事防御工程，全长两万多公里。",
         "Mixed 中文 and English: 温度是 25°C 🌡️🔥 — done 👍🏽.",
         "def f(x):\n    return x ** 2  # code"]


def tokenizers(demo_model_dir):
    found = [("demo", AutoTokenizer.from_pretrained(demo_model_dir))]
    gguf = packaged_gguf()
    if gguf is not None:
        found.append(("smollm2", AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)))
    return found


class CountingTokenizer:
    """The real tokenizer, remembering how many ids each decode call was given."""

    def __init__(self, tokenizer):
        self._tokenizer, self.decoded_lengths = tokenizer, []

    def decode(self, ids, **kwargs):
        self.decoded_lengths.append(len(ids))
        return self._tokenizer.decode(ids, **kwargs)


@pytest.fixture(scope="module")
def all_tokenizers(demo_model_dir):
    return tokenizers(demo_model_dir)


@pytest.mark.parametrize("text", TEXTS)
def test_deltas_fed_a_token_at_a_time_add_up_to_the_whole_answer(all_tokenizers, text):
    for name, tokenizer in all_tokenizers:
        ids = tokenizer.encode(text, add_special_tokens=False)
        whole = tokenizer.decode(ids, skip_special_tokens=True)
        decoder = DeltaDecoder(tokenizer, ())
        deltas = [decoder.feed([token]) for token in ids]
        assert "".join(deltas) + decoder.rest(whole) == whole, name
        assert "".join(deltas) == whole, name  # nothing left for the end: every character went out as it came
        assert all("\ufffd" not in delta for delta in deltas), name


def test_a_stop_string_is_held_back_then_released_when_it_is_none(all_tokenizers):
    for name, tokenizer in all_tokenizers:
        ids = tokenizer.encode("Answer: END-ish, and the END.", add_special_tokens=False)
        decoder = DeltaDecoder(tokenizer, ("END.",))
        streamed = "".join(decoder.feed([token]) for token in ids)
        assert streamed == "Answer: END-ish, and the ", name


def test_each_token_decodes_a_few_tokens_however_long_the_answer(all_tokenizers):
    for name, tokenizer in all_tokenizers:
        ids = tokenizer.encode(" ".join(TEXTS) * 20, add_special_tokens=False)
        counting = CountingTokenizer(tokenizer)
        decoder = DeltaDecoder(counting, ())
        streamed = "".join(decoder.feed([token]) for token in ids)
        assert streamed == tokenizer.decode(ids, skip_special_tokens=True), name
        assert len(ids) > 1000 and max(counting.decoded_lengths) <= 8, name
