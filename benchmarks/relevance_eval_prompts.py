"""Prompts of the relevance groups (issue 26), each with a right answer written by hand.

Three groups where one embedding threshold called right answers off-topic, each asked in English and Chinese:
  cross_language  the prompt asks for an answer in the other language ("Answer in Chinese: …", "用英文介绍…");
                  written: the right answer in the asked language, and (WRONG_LANGUAGE) a right answer in the
                  prompt's own language, which is language_mismatch and not off-topic
  translation     "Translate into Chinese: …", "翻译成英文：…"; written: the translation
  short           a short question with a short answer: a bare number, a name, yes or no
Each prompt: (prompt, written right answer); short prompts carry a kind too, so that an off-topic pairing gives
an answer of another kind (a number to a question about a capital), never a wrong answer of the right kind
("Tokyo" to the capital of France is a wrong answer, on topic).
"""

from __future__ import annotations

CROSS_LANGUAGE = {
    "en": [
        ("Answer in Chinese: what is a cat?",
         "猫是一种小型的家养哺乳动物，身体柔软，善于抓老鼠，常被人们当作宠物饲养。"),
        ("Please reply in Chinese. What is rain?",
         "雨是从云中落下的水滴。空气中的水蒸气遇冷凝结成小水滴，变重后就落到地面上。"),
        ("In Chinese, describe the Great Wall.",
         "长城是中国古代修建的军事防御工程，绵延上万里，横跨崇山峻岭，是世界上最著名的建筑之一。"),
        ("Explain in Chinese what a computer is.",
         "计算机是一种能按照程序自动处理数据的电子设备，可以进行计算、存储信息和运行各种软件。"),
        ("Write two sentences in Chinese about the Moon.",
         "月亮是地球唯一的天然卫星。它本身不发光，我们看到的月光是它反射的太阳光。"),
        ("Tell me in Chinese why we need sleep.",
         "睡眠让身体和大脑得到休息和恢复，帮助巩固记忆、调节情绪，长期缺觉会损害健康。"),
        ("Answer in Chinese: how do plants get water?",
         "植物主要靠根从土壤中吸收水分，水再通过茎里的导管运到叶子。"),
        ("Describe the Eiffel Tower. Answer in Chinese.",
         "埃菲尔铁塔位于法国巴黎，是一座建于1889年的钢铁高塔，约三百米高，是巴黎的标志。"),
        ("In Chinese, what is the Internet?",
         "互联网是由全世界无数计算机网络互相连接而成的网络，人们用它浏览网页、发送邮件和交流信息。"),
        ("Please answer in Chinese: what do bees make?",
         "蜜蜂采集花蜜酿造蜂蜜，还会分泌蜂蜡来建造蜂巢。"),
        ("Reply in Chinese: what is the largest ocean?",
         "世界上最大的海洋是太平洋，它的面积比地球上所有陆地加起来还要大。"),
        ("Introduce Shakespeare in Chinese.",
         "莎士比亚是英国文艺复兴时期的剧作家和诗人，写过《哈姆雷特》《罗密欧与朱丽叶》等名作。"),
    ],
    "zh": [
        ("用英文回答：什么是太阳？",
         "The Sun is the star at the center of our solar system. It is a huge ball of hot gas that "
         "gives the Earth light and heat."),
        ("请用英语介绍一下长城。",
         "The Great Wall is a series of ancient fortifications in northern China. It stretches for "
         "thousands of kilometers and was built to protect against invasions."),
        ("用英文介绍一下故宫。",
         "The Forbidden City in Beijing was the imperial palace of the Ming and Qing dynasties. "
         "Today it is the Palace Museum and holds a huge collection of art."),
        ("用英语解释什么是光合作用。",
         "Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to "
         "make sugar and release oxygen."),
        ("请用英文回答：熊猫吃什么？",
         "Giant pandas eat mostly bamboo, many kilograms of it a day, and now and then small animals "
         "or fruit."),
        ("用英文写两句关于春天的话。",
         "Spring brings warmer days and blooming flowers. Birds come back and the trees turn green "
         "again."),
        ("用英语描述一下西湖。",
         "West Lake in Hangzhou is a famous freshwater lake surrounded by hills, temples and "
         "gardens, known for its beautiful scenery."),
        ("请用英文解释什么是地震。",
         "An earthquake is a sudden shaking of the ground, caused by rocks slipping along faults in "
         "the Earth's crust."),
        ("用英文回答：为什么要刷牙？",
         "We brush our teeth to remove food and plaque, which prevents tooth decay, gum disease and "
         "bad breath."),
        ("请用英语介绍一下茶。",
         "Tea is a drink made by pouring hot water over the dried leaves of the tea plant. It comes "
         "from China and is now drunk all over the world."),
        ("用英文说说什么是春节。",
         "The Spring Festival, or Chinese New Year, is the most important traditional holiday in "
         "China. Families gather for a reunion dinner, set off fireworks and give red envelopes."),
        ("请用英文介绍一下黄河。",
         "The Yellow River is the second longest river in China. It carries a lot of yellow silt and "
         "is called the cradle of Chinese civilization."),
    ],
}
# On topic, in the prompt's own language rather than the one asked for: language_mismatch, not off_topic.
WRONG_LANGUAGE = {
    "en": ["A cat is a small domesticated mammal with soft fur, kept as a pet and good at catching mice.",
           "Rain is water that falls from clouds when droplets of condensed vapour grow too heavy.",
           "The Great Wall is a long series of ancient fortifications built across northern China.",
           "A computer is an electronic machine that processes data by following a program.",
           "The Moon is Earth's only natural satellite; it shines by reflecting sunlight.",
           "Sleep lets the body and the brain rest and recover, and it helps us remember what we learned."],
    "zh": ["太阳是太阳系中心的恒星，是一个巨大的炽热气体球，给地球带来光和热。",
           "长城是中国古代为了抵御外敌入侵而修建的军事工程，绵延数千公里。",
           "故宫位于北京，是明清两代的皇宫，现在是故宫博物院。",
           "光合作用是植物利用阳光、水和二氧化碳制造糖并释放氧气的过程。",
           "大熊猫主要吃竹子，每天要吃很多，偶尔也吃小动物或水果。",
           "春天天气变暖，花儿开放，鸟儿飞回来，树木重新变绿。"],
}
TRANSLATION = {
    "en": [
        ("Translate into Chinese: The weather is nice today.", "今天天气很好。"),
        ("Translate 'I like drinking tea' into Chinese.", "我喜欢喝茶。"),
        ("Translate into Chinese: Where is the train station?", "火车站在哪里？"),
        ("Please translate this sentence into Chinese: My brother is a doctor.", "我哥哥是一名医生。"),
        ("Translate to Chinese: The library opens at nine in the morning.", "图书馆早上九点开门。"),
        ("Translate 'thank you very much' into Chinese.", "非常感谢。"),
        ("Translate into Chinese: Cats sleep for most of the day.", "猫一天中大部分时间都在睡觉。"),
        ("Translate into Chinese: We are going to the beach tomorrow.", "我们明天要去海边。"),
        ("Translate 'good morning' into Chinese.", "早上好。"),
        ("Translate into Chinese: This book is very interesting.", "这本书非常有趣。"),
        ("Translate into Chinese: Please close the window.", "请关上窗户。"),
        ("Translate into Chinese: How much does this shirt cost?", "这件衬衫多少钱？"),
    ],
    "zh": [
        ("把下面这句话翻译成英文：我明天要去北京。", "I am going to Beijing tomorrow."),
        ("翻译成英文：今天很冷。", "It is very cold today."),
        ("把“早上好”翻译成英文。", "Good morning."),
        ("请翻译成英语：我的猫喜欢吃鱼。", "My cat likes to eat fish."),
        ("翻译成英文：这家餐厅的菜很好吃。", "The food at this restaurant is delicious."),
        ("把这句话翻译成英文：他每天骑自行车上班。", "He rides his bike to work every day."),
        ("翻译成英语：请问洗手间在哪里？", "Excuse me, where is the restroom?"),
        ("把“谢谢你的帮助”翻译成英文。", "Thank you for your help."),
        ("翻译成英文：我们下周开会。", "We have a meeting next week."),
        ("请把这句话翻译成英文：孩子们在公园里玩。", "The children are playing in the park."),
        ("翻译成英文：我不会说法语。", "I can't speak French."),
        ("把下面的话翻译成英文：春天来了，花都开了。", "Spring has come, and the flowers are all in bloom."),
    ],
}
# (prompt, right answer, kind): an off-topic pairing takes an answer of another kind
SHORT = {
    "en": [
        ("What is 17 times 23?", "391", "number"), ("What is the capital of France?", "Paris", "place"),
        ("What is 12 plus 30?", "42", "number"), ("Who wrote Romeo and Juliet?", "Shakespeare", "person"),
        ("Is the Sun a star?", "Yes.", "yesno"), ("How many legs does a spider have?", "8", "number"),
        ("What is the capital of Japan?", "Tokyo.", "place"),
        ("What color is the sky on a clear day?", "Blue.", "color"),
        ("Can penguins fly?", "No.", "yesno"), ("What is 100 divided by 4?", "25", "number"),
        ("What is the largest planet in our solar system?", "Jupiter", "thing"),
        ("Which element has the chemical symbol O?", "Oxygen", "thing"),
    ],
    "zh": [
        ("17 乘以 23 等于多少？", "391", "number"), ("法国的首都是哪里？", "巴黎", "place"),
        ("12 加 30 等于几？", "42", "number"), ("《红楼梦》的作者是谁？", "曹雪芹", "person"),
        ("太阳是恒星吗？", "是的。", "yesno"), ("蜘蛛有几条腿？", "8条", "number"),
        ("日本的首都是哪里？", "东京。", "place"), ("晴天的天空是什么颜色？", "蓝色。", "color"),
        ("企鹅会飞吗？", "不会。", "yesno"), ("100 除以 4 等于多少？", "25", "number"),
        ("太阳系最大的行星是哪颗？", "木星", "thing"), ("化学符号 O 代表什么元素？", "氧", "thing"),
    ],
}
GROUPS = ("cross_language", "translation", "short")


def prompts() -> list[dict]:
    """Every prompt of the three groups: id, group, the prompt's language, the answer's language, prompt, written
    answer, kind (short prompts only)."""
    out: list[dict] = []
    for lang, items in CROSS_LANGUAGE.items():
        other = "zh" if lang == "en" else "en"
        out += [{"id": f"cross-{lang}-{i}", "group": "cross_language", "prompt_language": lang, "language": other,
                 "prompt": prompt, "written": answer} for i, (prompt, answer) in enumerate(items)]
    for lang, items in TRANSLATION.items():
        other = "zh" if lang == "en" else "en"
        out += [{"id": f"translate-{lang}-{i}", "group": "translation", "prompt_language": lang, "language": other,
                 "prompt": prompt, "written": answer} for i, (prompt, answer) in enumerate(items)]
    for lang, short_items in SHORT.items():
        out += [{"id": f"short-{lang}-{i}", "group": "short", "prompt_language": lang, "language": lang,
                 "prompt": prompt, "written": answer, "kind": kind}
                for i, (prompt, answer, kind) in enumerate(short_items)]
    return out
