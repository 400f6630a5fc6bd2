"""Short factual questions in English and Chinese with their gold answers, for the hallucination-risk set.

Each entry: (id, English question, Chinese question, accepted answers). An answer is right when it states an
accepted answer (either language's form) as its answer; make_factual_answers.py checks that first, and the
labels it writes were then read one by one (its OVERRIDES say where reading disagreed with the check).
"""

from __future__ import annotations

CAPITALS = [
    ("France", "法国", ["Paris", "巴黎"]), ("Japan", "日本", ["Tokyo", "东京"]),
    ("Italy", "意大利", ["Rome", "罗马"]), ("Germany", "德国", ["Berlin", "柏林"]),
    ("the United Kingdom", "英国", ["London", "伦敦"]), ("Russia", "俄罗斯", ["Moscow", "莫斯科"]),
    ("China", "中国", ["Beijing", "北京"]), ("Egypt", "埃及", ["Cairo", "开罗"]),
    ("Canada", "加拿大", ["Ottawa", "渥太华"]), ("Australia", "澳大利亚", ["Canberra", "堪培拉"]),
    ("Brazil", "巴西", ["Brasília", "Brasilia", "巴西利亚"]), ("Turkey", "土耳其", ["Ankara", "安卡拉"]),
    ("India", "印度", ["New Delhi", "新德里"]), ("South Korea", "韩国", ["Seoul", "首尔"]),
    ("Thailand", "泰国", ["Bangkok", "曼谷"]), ("Kenya", "肯尼亚", ["Nairobi", "内罗毕"]),
    ("Argentina", "阿根廷", ["Buenos Aires", "布宜诺斯艾利斯"]), ("Norway", "挪威", ["Oslo", "奥斯陆"]),
    ("Portugal", "葡萄牙", ["Lisbon", "里斯本"]), ("Greece", "希腊", ["Athens", "雅典"]),
]
ARITHMETIC = [("2 + 2", "2 加 2", 4), ("7 + 5", "7 加 5", 12), ("9 × 9", "9 乘以 9", 81), ("6 × 7", "6 乘以 7", 42),
              ("15 + 27", "15 加 27", 42), ("100 − 37", "100 减 37", 63), ("8 × 12", "8 乘以 12", 96),
              ("144 ÷ 12", "144 除以 12", 12), ("25 × 4", "25 乘以 4", 100), ("3 × 7", "3 乘以 7", 21),
              ("50 ÷ 5", "50 除以 5", 10), ("18 − 9", "18 减 9", 9), ("11 × 12", "11 乘以 12", 132),
              ("23 + 48", "23 加 48", 71), ("5 × 5", "5 乘以 5", 25)]
WHO = [
    ("Who wrote Romeo and Juliet?", "《罗密欧与朱丽叶》的作者是谁？", ["Shakespeare", "莎士比亚"]),
    ("Who wrote the Harry Potter books?", "《哈利·波特》系列是谁写的？", ["Rowling", "罗琳"]),
    ("Who wrote the novel 1984?", "小说《1984》的作者是谁？", ["Orwell", "奥威尔"]),
    ("Who wrote Pride and Prejudice?", "《傲慢与偏见》的作者是谁？", ["Austen", "奥斯汀"]),
    ("Who wrote On the Origin of Species?", "《物种起源》是谁写的？", ["Darwin", "达尔文"]),
    ("Who wrote War and Peace?", "《战争与和平》的作者是谁？", ["Tolstoy", "托尔斯泰"]),
    ("Who wrote Don Quixote?", "《堂吉诃德》的作者是谁？", ["Cervantes", "塞万提斯"]),
    ("Who wrote The Old Man and the Sea?", "《老人与海》的作者是谁？", ["Hemingway", "海明威"]),
    ("Who wrote Dream of the Red Chamber?", "《红楼梦》的作者是谁？", ["Cao Xueqin", "曹雪芹"]),
    ("Who painted the Mona Lisa?", "《蒙娜丽莎》是谁画的？", ["Leonardo", "Da Vinci", "达·芬奇", "达芬奇"]),
    ("Who developed the theory of relativity?", "相对论是谁提出的？", ["Einstein", "爱因斯坦"]),
    ("Who invented the telephone?", "电话是谁发明的？", ["Bell", "贝尔"]),
]
DATES = [
    ("In what year did World War II end?", "第二次世界大战在哪一年结束？", "1945"),
    ("In what year did humans first land on the Moon?", "人类第一次登上月球是在哪一年？", "1969"),
    ("In what year was the US Declaration of Independence signed?", "美国《独立宣言》是在哪一年签署的？", "1776"),
    ("In what year did the Berlin Wall fall?", "柏林墙在哪一年倒塌？", "1989"),
    ("In what year did World War I begin?", "第一次世界大战在哪一年爆发？", "1914"),
    ("In what year did the French Revolution begin?", "法国大革命在哪一年爆发？", "1789"),
    ("In what year was the People's Republic of China founded?", "中华人民共和国是在哪一年成立的？", "1949"),
    ("In what year did the Titanic sink?", "泰坦尼克号在哪一年沉没？", "1912"),
    ("In what year did Columbus first reach the Americas?", "哥伦布在哪一年第一次到达美洲？", "1492"),
]
UNITS = [
    ("How many centimeters are in one meter?", "一米等于多少厘米？", "100", "一百"),
    ("How many grams are in one kilogram?", "一千克等于多少克？", "1000", "一千"),
    ("How many minutes are in one hour?", "一小时有多少分钟？", "60", "六十"),
    ("How many days are in a week?", "一个星期有几天？", "7", "七"),
    ("How many days are in a leap year?", "闰年有多少天？", "366", "三百六十六"),
    ("How many hours are in a day?", "一天有多少小时？", "24", "二十四"),
    ("How many months are in a year?", "一年有几个月？", "12", "十二"),
    ("How many milliliters are in one liter?", "一升等于多少毫升？", "1000", "一千"),
    ("How many meters are in one kilometer?", "一千米等于多少米？", "1000", "一千"),
]
SCIENCE = [
    ("What is the chemical formula of water?", "水的化学式是什么？", ["H2O", "H₂O"]),
    ("At what temperature in Celsius does water boil at sea level?", "在海平面，水的沸点是多少摄氏度？", ["100"]),
    ("What is the largest planet in the solar system?", "太阳系中最大的行星是哪颗？", ["Jupiter", "木星"]),
    ("Which planet is closest to the Sun?", "离太阳最近的行星是哪颗？", ["Mercury", "水星"]),
    ("Which gas do plants absorb from the air for photosynthesis?", "植物进行光合作用时从空气中吸收哪种气体？",
     ["carbon dioxide", "CO2", "CO₂", "二氧化碳"]),
    ("How many legs does a spider have?", "蜘蛛有几条腿？", ["8", "eight", "八"]),
    ("How many planets are in the solar system?", "太阳系有几颗行星？", ["8", "eight", "八"]),
    ("Which planet is known as the Red Planet?", "哪颗行星被称为红色星球？", ["Mars", "火星"]),
    ("At what temperature in Celsius does water freeze?", "水在多少摄氏度结冰？", ["0", "zero", "零"]),
    ("What is the chemical symbol for gold?", "金的化学符号是什么？", ["Au"]),
    ("What is the largest ocean on Earth?", "地球上最大的海洋是哪个？", ["Pacific", "太平洋"]),
    ("What is the hardest natural substance?", "最坚硬的天然物质是什么？", ["diamond", "钻石", "金刚石"]),
    ("How many continents are there?", "世界上有几个大洲？", ["7", "seven", "七"]),
    ("What is the largest mammal?", "最大的哺乳动物是什么？", ["blue whale", "蓝鲸"]),
    ("What is the tallest mountain in the world?", "世界上最高的山峰是哪座？", ["Everest", "珠穆朗玛", "珠峰"]),
    ("How many bones are in the adult human body?", "成年人的身体有多少块骨头？", ["206"]),
]


def questions() -> list[dict]:
    """Every question in both languages: id, language, category, prompt, accepted answers."""
    pairs: list[tuple[str, str, str, str, list[str]]] = []
    pairs += [(f"capital-{i}", "capital", f"What is the capital of {en}?", f"{zh}的首都是哪里？", answers)
              for i, (en, zh, answers) in enumerate(CAPITALS)]
    pairs += [(f"math-{i}", "arithmetic", f"What is {en}?", f"{zh}等于多少？", [str(value)])
              for i, (en, zh, value) in enumerate(ARITHMETIC)]
    pairs += [(f"who-{i}", "who", en, zh, answers) for i, (en, zh, answers) in enumerate(WHO)]
    pairs += [(f"date-{i}", "date", en, zh, [year]) for i, (en, zh, year) in enumerate(DATES)]
    pairs += [(f"unit-{i}", "unit", en, zh, [digits, chinese]) for i, (en, zh, digits, chinese) in enumerate(UNITS)]
    pairs += [(f"science-{i}", "science", en, zh, answers) for i, (en, zh, answers) in enumerate(SCIENCE)]
    return both_languages(pairs)


def both_languages(pairs: list[tuple[str, str, str, str, list[str]]]) -> list[dict]:
    """(key, category, English, Chinese, answers) -> one row per language, English first; shared with the
    held-out set (factual_questions_heldout.py) so both files' rows have one shape."""
    out = []
    for key, category, en, zh, answers in pairs:
        out.append({"id": f"{key}-en", "language": "en", "category": category, "prompt": en, "answers": answers})
        out.append({"id": f"{key}-zh", "language": "zh", "category": category, "prompt": zh, "answers": answers})
    return out
