"""Build benchmarks/data/quality_eval.jsonl, the labeled evaluation set, from real SmolLM2 answers and written cases.

    python benchmarks/make_quality_generations.py   # the model's answers (minutes), then:
    python benchmarks/make_quality_eval.py

Every row: id, prompt, response, finish_reason, language (what the answer should be in; None where the answer
carries no language, as code), label, source, and for factual questions `factual` = right | wrong.
Labels:
  good            a fitting answer in the expected language (it may still be factually wrong: see `factual`)
  degenerate      a word, phrase or sentence repeated, or a good start that falls into a loop
  off_topic       a fluent answer to another question
  wrong_language  an answer in another language than the prompt's, or than the one the prompt asks for
  empty           nothing but white space
  truncated       a good answer cut at max_new_tokens mid-sentence (finish_reason "length")
  incoherent      words on the topic, in the right language, that mean nothing (SmolLM2-135M's Chinese often is):
                  no signal is asked to catch these; reported apart
Sources:
  smollm2-greedy, smollm2-sampled  the model's own answers, labeled by reading them (LABELS below, by row id;
                                   an unlisted answer is good); factual ones checked against the accepted answers
  written                          loops built from real good answers and from fixed phrases, empty answers
  paired                           real good answers re-paired: with another prompt of the same language
                                   (off_topic), or with the parallel prompt in the other language (wrong_language)
  cut                              real good answers cut in the middle (truncated)
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from quality_eval_written import GOOD_ZH  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
GENERATIONS = DATA / "smollm2_generations.jsonl"
OUT = DATA / "quality_eval.jsonl"

# Read answer by answer (python benchmarks/make_quality_eval.py --show prints them): what is not good. A Chinese
# prompt answered in English is wrong_language even when the answer is a number with an English sentence.
LABELS: dict[str, str] = {
    # greedy
    "open-en-1:greedy": "degenerate", "open-en-9:greedy": "degenerate", "open-en-11:greedy": "degenerate",
    "open-zh-0:greedy": "degenerate", "open-zh-1:greedy": "degenerate", "open-zh-2:greedy": "degenerate",
    "open-zh-8:greedy": "degenerate", "open-zh-11:greedy": "degenerate", "open-zh-12:greedy": "degenerate",
    "open-zh-13:greedy": "degenerate", "open-zh-14:greedy": "degenerate", "open-zh-18:greedy": "degenerate",
    "open-zh-19:greedy": "degenerate", "capital-zh-0:greedy": "degenerate", "capital-zh-1:greedy": "degenerate",
    "capital-zh-2:greedy": "degenerate", "capital-zh-3:greedy": "degenerate", "capital-zh-7:greedy": "degenerate",
    "capital-zh-8:greedy": "degenerate", "capital-zh-9:greedy": "degenerate", "unit-zh-0:greedy": "degenerate",
    "unit-zh-1:greedy": "degenerate", "unit-zh-2:greedy": "degenerate", "unit-zh-4:greedy": "degenerate",
    "ask-0:greedy": "degenerate", "ask-1:greedy": "degenerate", "ask-3:greedy": "degenerate",
    "ask-5:greedy": "degenerate",
    "open-zh-4:greedy": "wrong_language", "open-zh-9:greedy": "wrong_language",
    "open-zh-15:greedy": "wrong_language", "math-zh-0:greedy": "wrong_language",
    "math-zh-1:greedy": "wrong_language", "math-zh-2:greedy": "wrong_language", "math-zh-3:greedy": "wrong_language",
    "math-zh-4:greedy": "wrong_language", "math-zh-5:greedy": "wrong_language", "math-zh-6:greedy": "wrong_language",
    "math-zh-7:greedy": "wrong_language", "math-zh-8:greedy": "wrong_language", "math-zh-9:greedy": "wrong_language",
    "unit-zh-3:greedy": "wrong_language", "unit-zh-5:greedy": "wrong_language",
    "open-zh-3:greedy": "incoherent", "open-zh-5:greedy": "incoherent", "open-zh-6:greedy": "incoherent",
    "open-zh-7:greedy": "incoherent", "open-zh-10:greedy": "incoherent", "open-zh-16:greedy": "incoherent",
    "open-zh-17:greedy": "incoherent", "capital-zh-4:greedy": "incoherent", "capital-zh-5:greedy": "incoherent",
    "capital-zh-6:greedy": "incoherent",
    "ask-4:greedy": "off_topic",
    # sampled
    "open-zh-0:sampled": "wrong_language", "open-zh-4:sampled": "wrong_language",
    "open-zh-8:sampled": "wrong_language", "open-zh-12:sampled": "wrong_language",
    "open-zh-14:sampled": "wrong_language", "ask-6:sampled": "wrong_language",
    "open-zh-2:sampled": "incoherent", "open-zh-6:sampled": "incoherent", "open-zh-10:sampled": "incoherent",
    "open-zh-16:sampled": "incoherent", "ask-0:sampled": "incoherent", "ask-4:sampled": "incoherent",
    "open-zh-18:sampled": "degenerate",
}

EN_LOOPS = ["the the the the the the the the the the the the the the the the the the the the",
            "I am sorry. I am sorry. I am sorry. I am sorry. I am sorry. I am sorry. I am sorry. I am sorry.",
            "Yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes",
            "It is a good question. " * 9]
ZH_LOOPS = ["的的的的的的的的的的的的的的的的的的的的的的的的",
            "好的，好的，好的，好的，好的，好的，好的，好的，好的，好的",
            "这是一个很好的问题。" * 8, "我不知道。我不知道。我不知道。我不知道。我不知道。我不知道。"]


def is_right(response: str, answers: list[str]) -> bool:
    digits = re.sub(r"(?<=\d)[,\s](?=\d{3}\b)", "", response)
    return any(answer.lower() in digits.lower() for answer in answers)


def looped(answer: str, language: str, rng: random.Random) -> str:
    """A good start that falls into a loop: the answer's first clause, then one of its phrases over and over."""
    if language == "zh":
        head = answer[:max(8, len(answer) // 3)]
        phrase = answer[len(head) // 2:len(head) // 2 + rng.randint(3, 8)] or "重复"
        return head + "".join([phrase] * rng.randint(8, 14))
    words = answer.split()
    head = " ".join(words[:max(6, len(words) // 3)])
    start = rng.randint(0, max(0, len(words) // 3 - 4))
    phrase = " ".join(words[start:start + rng.randint(2, 6)]) or "again"
    return head + " " + ", ".join([phrase] * rng.randint(6, 12))


def cut(answer: str, language: str) -> str:
    if language == "zh":
        return answer[:max(6, len(answer) // 2)]
    words = answer.split()
    return " ".join(words[:max(4, len(words) // 2)])


def build(generations: list[dict]) -> list[dict]:
    rng = random.Random(7)
    rows: list[dict] = []
    for g in generations:
        row_id = f"{g['id']}:{g['mode']}"
        row = {"id": row_id, "prompt": g["prompt"], "response": g["response"], "finish_reason": g["finish_reason"],
               "language": g["language"], "label": LABELS.get(row_id, "good"), "source": f"smollm2-{g['mode']}"}
        if g["kind"] == "fact":
            row["factual"] = "right" if is_right(g["response"], g["answers"]) else "wrong"
        rows.append(row)
    prompts_by_id = {g["id"]: g for g in generations}
    for prompt_id, text in GOOD_ZH.items():
        g = prompts_by_id[prompt_id]
        row = {"id": f"{prompt_id}:written", "prompt": g["prompt"], "response": text, "finish_reason": "stop",
               "language": "zh", "label": "good", "source": "written"}
        if g["kind"] == "fact":
            row["factual"] = "right"
        rows.append(row)
    good = [r for r in rows if r["label"] == "good" and r["language"] in ("en", "zh") and len(r["response"]) >= 8
            and not r["id"].startswith(("ask-", "code-"))]
    by_language = {lang: [r for r in good if r["language"] == lang] for lang in ("en", "zh")}
    for lang, pool in by_language.items():
        for index, row in enumerate(pool):
            other = pool[(index + len(pool) // 2) % len(pool)]
            if other["prompt"] != row["prompt"]:
                rows.append({"id": f"offtopic-{lang}-{index}", "prompt": row["prompt"], "response": other["response"],
                             "finish_reason": "stop", "language": lang, "label": "off_topic", "source": "paired"})
        for index, row in enumerate(pool[:30]):
            rows.append({"id": f"loop-{lang}-{index}", "prompt": row["prompt"],
                         "response": looped(row["response"], lang, rng), "finish_reason": "length", "language": lang,
                         "label": "degenerate", "source": "written"})
        for index, row in enumerate(pool[:12]):
            rows.append({"id": f"cut-{lang}-{index}", "prompt": row["prompt"], "response": cut(row["response"], lang),
                         "finish_reason": "length", "language": lang, "label": "truncated", "source": "cut"})
    for lang, loops in (("en", EN_LOOPS), ("zh", ZH_LOOPS)):
        prompts = [r["prompt"] for r in by_language[lang]]
        for index, loop in enumerate(loops):
            rows.append({"id": f"fixedloop-{lang}-{index}", "prompt": prompts[index * 3 % len(prompts)],
                         "response": loop, "finish_reason": "length", "language": lang, "label": "degenerate",
                         "source": "written"})
        for index, blank in enumerate(["", "   ", "\n\n"]):
            rows.append({"id": f"empty-{lang}-{index}", "prompt": prompts[index], "response": blank,
                         "finish_reason": "stop", "language": lang, "label": "empty", "source": "written"})
    parallel = {}  # open-en-3 and open-zh-3 ask the same thing in two languages
    for row in rows:
        prompt_id, _, source = row["id"].partition(":")
        if prompt_id.startswith("open-") and row["label"] == "good" and source in ("greedy", "written"):
            parallel[prompt_id] = row
    for key, row in parallel.items():
        lang = row["language"]
        twin = parallel.get(key.replace(f"-{lang}-", "-zh-" if lang == "en" else "-en-"))
        if twin is not None and twin["language"] != lang:
            rows.append({"id": f"wronglang-{key}", "prompt": twin["prompt"], "response": row["response"],
                         "finish_reason": row["finish_reason"], "language": twin["language"],
                         "label": "wrong_language", "source": "paired"})
    return rows


def main() -> None:
    generations = [json.loads(line) for line in GENERATIONS.read_text(encoding="utf-8").splitlines() if line]
    if "--show" in sys.argv:
        for g in generations:
            print(f"--- {g['id']}:{g['mode']} [{g['finish_reason']}] {g['prompt']}\n{g['response']}")
        return
    rows = build(generations)
    with open(OUT, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[f"{row['label']}/{row['language']}"] = counts.get(f"{row['label']}/{row['language']}", 0) + 1
    print(f"{len(rows)} rows -> {OUT}: {json.dumps(counts, sort_keys=True)}")


if __name__ == "__main__":
    main()
