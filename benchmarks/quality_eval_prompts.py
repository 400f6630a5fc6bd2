"""The prompts of the quality evaluation set, with what a right answer must contain where one is checkable.

Each prompt: (id, language the answer is expected in, kind, prompt, accepted answers). kind is "open" (no
checkable answer), "fact" (arithmetic, capitals, unit conversions: right when an accepted answer appears),
"ask_other" (the prompt asks for an answer in another language) or "code" (an answer that carries no
language of its own).
"""

from __future__ import annotations

OPEN_EN = [
    "Explain what a CPU does in two sentences.", "How do I boil an egg?", "What is photosynthesis?",
    "Give me three tips for sleeping better.", "Why is the sky blue?", "What does a database index do?",
    "Describe a healthy breakfast.", "How does a bicycle stay upright?",
    "What is the difference between weather and climate?", "Write a short poem about the sea.",
    "What is machine learning?", "How can I save money each month?", "Explain what a virus is.",
    "What should I pack for a weekend hiking trip?", "Why do leaves change colour in autumn?",
    "What is the purpose of a resume?", "How do vaccines work?", "Summarize the story of Cinderella.",
    "What are the benefits of drinking water?", "How does the internet work, in simple terms?",
]
OPEN_ZH = [
    "用两句话解释 CPU 的作用。", "怎样煮鸡蛋？", "什么是光合作用？", "给我三条改善睡眠的建议。", "天空为什么是蓝色的？",
    "数据库索引有什么用？", "描述一顿健康的早餐。", "自行车为什么不会倒？", "天气和气候有什么区别？", "写一首关于大海的短诗。",
    "什么是机器学习？", "每个月怎样才能存下钱？", "解释一下什么是病毒。", "周末去徒步应该带些什么？", "秋天树叶为什么会变色？",
    "简历有什么用？", "疫苗是怎样起作用的？", "简单讲讲灰姑娘的故事。", "多喝水有什么好处？", "用简单的话解释互联网是怎么工作的。",
]
ARITHMETIC = [(17, 23), (12, 12), (25, 4), (9, 8), (15, 6), (7, 13), (11, 11), (30, 3), (14, 5), (6, 7)]
CAPITALS = [("France", "法国", ["Paris", "巴黎"]), ("Japan", "日本", ["Tokyo", "东京"]),
            ("Italy", "意大利", ["Rome", "罗马"]), ("Germany", "德国", ["Berlin", "柏林"]),
            ("Spain", "西班牙", ["Madrid", "马德里"]), ("Canada", "加拿大", ["Ottawa", "渥太华"]),
            ("Australia", "澳大利亚", ["Canberra", "堪培拉"]), ("Egypt", "埃及", ["Cairo", "开罗"]),
            ("Russia", "俄罗斯", ["Moscow", "莫斯科"]), ("China", "中国", ["Beijing", "北京"])]
UNITS = [("How many centimeters are in 3 meters?", "3 米等于多少厘米？", "300"),
         ("How many minutes are in 2 hours?", "2 小时是多少分钟？", "120"),
         ("How many grams are in 2 kilograms?", "2 千克是多少克？", "2000"),
         ("How many meters are in 5 kilometers?", "5 千米是多少米？", "5000"),
         ("How many seconds are in 3 minutes?", "3 分钟是多少秒？", "180"),
         ("How many hours are in 2 days?", "2 天是多少小时？", "48")]
ASK_OTHER = [("en", "zh", "Answer in Chinese: what is a cat?"), ("en", "zh", "Please reply in Chinese. What is rain?"),
             ("en", "fr", "Translate 'good morning' into French."), ("en", "zh", "Translate 'thank you' into Chinese."),
             ("zh", "en", "用英文回答：什么是太阳？"), ("zh", "en", "请用英语介绍一下你自己。"),
             ("zh", "en", "把“早上好”翻译成英文。"), ("zh", "en", "用英文写一句关于春天的话。")]
CODE = [("en", "Write a Python function that adds two numbers. Only the code."),
        ("en", "Write a SQL query that counts the rows of a table named users. Only the query."),
        ("zh", "写一个 Python 函数，计算两个数的和。只写代码。"),
        ("zh", "写一条 SQL 语句，统计 users 表的行数。只写语句。")]


def prompts() -> list[dict]:
    out: list[dict] = []
    out += [{"id": f"open-en-{i}", "language": "en", "kind": "open", "prompt": p} for i, p in enumerate(OPEN_EN)]
    out += [{"id": f"open-zh-{i}", "language": "zh", "kind": "open", "prompt": p} for i, p in enumerate(OPEN_ZH)]
    for i, (a, b) in enumerate(ARITHMETIC):
        out.append({"id": f"math-en-{i}", "language": "en", "kind": "fact", "prompt": f"What is {a} times {b}?",
                    "answers": [str(a * b)]})
        out.append({"id": f"math-zh-{i}", "language": "zh", "kind": "fact", "prompt": f"{a} 乘以 {b} 等于多少？",
                    "answers": [str(a * b)]})
    for i, (en, zh, answers) in enumerate(CAPITALS):
        out.append({"id": f"capital-en-{i}", "language": "en", "kind": "fact",
                    "prompt": f"What is the capital of {en}?", "answers": answers})
        out.append({"id": f"capital-zh-{i}", "language": "zh", "kind": "fact", "prompt": f"{zh}的首都是哪里？",
                    "answers": answers})
    for i, (en, zh, answer) in enumerate(UNITS):
        out.append({"id": f"unit-en-{i}", "language": "en", "kind": "fact", "prompt": en, "answers": [answer]})
        out.append({"id": f"unit-zh-{i}", "language": "zh", "kind": "fact", "prompt": zh, "answers": [answer]})
    out += [{"id": f"ask-{i}", "language": expected, "prompt_language": asked_in, "kind": "ask_other", "prompt": p}
            for i, (asked_in, expected, p) in enumerate(ASK_OTHER)]
    out += [{"id": f"code-{i}", "language": None, "prompt_language": lang, "kind": "code", "prompt": p}
            for i, (lang, p) in enumerate(CODE)]
    return out
