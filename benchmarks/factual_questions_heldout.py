"""A held-out set of short factual questions (English and Chinese), written after the low_confidence flag and
bench_confidence.py's signals were chosen on factual_questions.py, so that no threshold was picked on them.

None of factual_questions.py's facts; phrased the varied ways users ask ("Name the capital of …", "What is seven
times eight?", "Which artist painted …"), and picked so that a small model may or may not know them. Each entry:
(English question, Chinese question, accepted answers in both languages' forms); ids start with "ho-" so they
never collide with the main set's. make_factual_answers.py --questions heldout answers and labels them.
"""

from __future__ import annotations

from factual_questions import both_languages

CAPITALS = [
    ("Which city is the capital of Peru?", "秘鲁的首都是哪座城市？", ["Lima", "利马"]),
    ("Name the capital of Vietnam.", "请说出越南的首都。", ["Hanoi", "Ha Noi", "河内"]),
    ("What is the capital city of Switzerland?", "瑞士的首都叫什么？", ["Bern", "伯尔尼", "伯恩"]),
    ("Which city is the capital of New Zealand?", "新西兰的首都是哪个城市？", ["Wellington", "惠灵顿"]),
    ("What is Nigeria's capital?", "尼日利亚的首都是哪里？", ["Abuja", "阿布贾"]),
    ("Name the capital of Pakistan.", "巴基斯坦的首都是哪座城市？", ["Islamabad", "伊斯兰堡"]),
    ("Which city is the capital of Morocco?", "摩洛哥的首都是哪里？", ["Rabat", "拉巴特"]),
    ("What is the capital of Mongolia?", "蒙古国的首都是哪座城市？", ["Ulaanbaatar", "Ulan Bator", "乌兰巴托"]),
    ("Tell me the capital of Chile.", "智利的首都是什么城市？", ["Santiago", "圣地亚哥"]),
    ("What is the capital of Hungary?", "匈牙利的首都在哪里？", ["Budapest", "布达佩斯"]),
]
GEOGRAPHY = [
    ("In which country is Mount Kilimanjaro?", "乞力马扎罗山位于哪个国家？", ["Tanzania", "坦桑尼亚"]),
    ("Which ocean lies between Africa and Australia?", "非洲和澳大利亚之间是哪个大洋？", ["Indian Ocean", "印度洋"]),
]
# (English, Chinese, value, extra accepted forms): the word forms only where the question itself is in words,
# since a word like "nine" is also found inside "ninety".
ARITHMETIC: list[tuple[str, str, int, list[str]]] = [
    ("What is 17 + 26?", "17 加 26 等于多少？", 43, []),
    ("What is seven times eight?", "七乘以八等于几？", 56, ["fifty-six", "fifty six", "五十六"]),
    ("What is 91 − 47?", "91 减 47 等于多少？", 44, []),
    ("Calculate 13 × 6.", "计算 13 乘以 6。", 78, []),
    ("What is 84 divided by 7?", "84 除以 7 是多少？", 12, []),
    ("What is twelve plus nineteen?", "十二加十九等于多少？", 31, ["thirty-one", "thirty one", "三十一"]),
    ("What is 250 minus 130?", "250 减去 130 得多少？", 120, []),
    ("What is 9 × 14?", "9 乘以 14 等于多少？", 126, []),
    ("How much is 72 ÷ 8?", "72 除以 8 等于几？", 9, []),
    ("What is the sum of 38 and 57?", "38 和 57 的和是多少？", 95, []),
    ("What is fifteen times four?", "十五乘以四等于多少？", 60, ["sixty", "六十"]),
    ("What is 1000 minus 365?", "1000 减 365 等于多少？", 635, []),
]
WHO = [
    ("Who wrote One Hundred Years of Solitude?", "《百年孤独》的作者是谁？", ["Márquez", "Marquez", "马尔克斯"]),
    ("Which artist painted The Starry Night?", "《星月夜》是哪位画家画的？", ["Van Gogh", "梵高", "梵·高", "凡·高"]),
    ("Who is the author of The Divine Comedy?", "《神曲》是谁写的？", ["Dante", "但丁"]),
    ("Who invented the World Wide Web?", "万维网是谁发明的？",
     ["Berners-Lee", "Berners Lee", "伯纳斯-李", "伯纳斯·李"]),
    ("Who composed the Moonlight Sonata?", "《月光奏鸣曲》是谁创作的？", ["Beethoven", "贝多芬"]),
    ("Who wrote Crime and Punishment?", "《罪与罚》的作者是谁？", ["Dostoevsky", "Dostoyevsky", "陀思妥耶夫斯基"]),
    ("Who discovered penicillin?", "青霉素是谁发现的？", ["Fleming", "弗莱明"]),
    ("Who painted the ceiling of the Sistine Chapel?", "西斯廷礼拜堂的天顶画是谁画的？",
     ["Michelangelo", "米开朗基罗"]),
    ("Who wrote Les Misérables?", "《悲惨世界》的作者是谁？", ["Hugo", "雨果"]),
    ("Who wrote Journey to the West?", "《西游记》是谁写的？", ["Wu Cheng'en", "Wu Chengen", "吴承恩"]),
]
DATES = [
    ("In what year did the Soviet Union collapse?", "苏联在哪一年解体？", "1991"),
    ("When did the American Civil War end?", "美国南北战争是哪一年结束的？", "1865"),
    ("In which year was the Battle of Waterloo fought?", "滑铁卢战役发生在哪一年？", "1815"),
    ("What year was the first iPhone released?", "第一代 iPhone 是哪一年发布的？", "2007"),
    ("In what year did East and West Germany reunify?", "东德和西德在哪一年统一？", "1990"),
    ("In what year did the Wright brothers make their first powered flight?", "莱特兄弟在哪一年首次实现动力飞行？",
     "1903"),
    ("In what year was Hong Kong handed back to China?", "香港是哪一年回归中国的？", "1997"),
    ("In what year did the Chernobyl nuclear disaster happen?", "切尔诺贝利核事故发生在哪一年？", "1986"),
]
UNITS = [
    ("How many seconds are in an hour?", "一小时有多少秒？", ["3600", "三千六百"]),
    ("How many sides does a hexagon have?", "六边形有几条边？", ["6", "six", "六"]),
    ("How many players does a soccer team have on the field?", "一支足球队在场上有几名球员？",
     ["11", "eleven", "十一"]),
    ("How many millimeters are in a centimeter?", "一厘米等于多少毫米？", ["10", "十"]),
    ("How many degrees are in a right angle?", "直角是多少度？", ["90", "ninety", "九十"]),
    ("How many keys does a standard piano have?", "一架标准钢琴有多少个琴键？", ["88", "八十八"]),
    ("How many hearts does an octopus have?", "章鱼有几颗心脏？", ["3", "three", "三"]),
    ("How many weeks are in a year?", "一年有多少个星期？", ["52", "fifty-two", "五十二"]),
]
SCIENCE = [
    ("What is the chemical symbol for iron?", "铁的化学符号是什么？", ["Fe"]),
    ("Which planet is famous for its rings?", "哪颗行星以它的光环著称？", ["Saturn", "土星"]),
    ("Which part of the cell is called its powerhouse?", "细胞的“动力工厂”是哪种细胞器？",
     ["mitochondria", "mitochondrion", "线粒体"]),
    ("What is the most abundant gas in Earth's atmosphere?", "地球大气中含量最多的气体是什么？", ["nitrogen", "氮"]),
    ("Which organ pumps blood around the body?", "人体中哪个器官负责泵血？", ["heart", "心脏"]),
    ("What is the largest organ of the human body?", "人体最大的器官是什么？", ["skin", "皮肤"]),
    ("What force keeps the planets in orbit around the Sun?", "是什么力让行星绕着太阳转？",
     ["gravity", "gravitation", "引力", "重力"]),
    ("Which element has atomic number 1?", "原子序数为 1 的元素是什么？", ["hydrogen", "氢"]),
    ("What is the fastest land animal?", "陆地上跑得最快的动物是什么？", ["cheetah", "猎豹"]),
    ("How many chromosomes does a normal human cell have?", "正常人体细胞有多少条染色体？", ["46", "四十六"]),
]


def questions() -> list[dict]:
    """Every held-out question in both languages, in factual_questions.questions()'s shape."""
    pairs: list[tuple[str, str, str, str, list[str]]] = []
    pairs += [(f"ho-capital-{i}", "capital", en, zh, answers) for i, (en, zh, answers) in enumerate(CAPITALS)]
    pairs += [(f"ho-geo-{i}", "geography", en, zh, answers) for i, (en, zh, answers) in enumerate(GEOGRAPHY)]
    pairs += [(f"ho-math-{i}", "arithmetic", en, zh, [str(value), *words])
              for i, (en, zh, value, words) in enumerate(ARITHMETIC)]
    pairs += [(f"ho-who-{i}", "who", en, zh, answers) for i, (en, zh, answers) in enumerate(WHO)]
    pairs += [(f"ho-date-{i}", "date", en, zh, [year]) for i, (en, zh, year) in enumerate(DATES)]
    pairs += [(f"ho-unit-{i}", "unit", en, zh, answers) for i, (en, zh, answers) in enumerate(UNITS)]
    pairs += [(f"ho-science-{i}", "science", en, zh, answers) for i, (en, zh, answers) in enumerate(SCIENCE)]
    return both_languages(pairs)
