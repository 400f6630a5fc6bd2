# ruff: noqa: E501 - prompt and answer data, much of it Chinese (E501 counts each CJK character as two columns)
"""A second held-out set for the answer-language request parser and asks_for_fact (issue 26), written blind.

Written on 2026-12-07 without opening healthmon/quality/language.py, healthmon/quality/relevance.py, their tests,
or any earlier prompt set (relevance_eval_prompts, relevance_heldout_prompts, factual_questions*), while the parser
and asks_for_fact were being changed on the first held-out set's misses; so neither change has seen these. Cases
are what users write, not what the rules read; none is to be edited after the first measurement.

    python benchmarks/heldout2_prompts.py   # writes data/heldout2_language.jsonl and data/heldout2_factual.jsonl

LANGUAGE: prompts that ask for the answer in another language (20 English asking for Chinese, 20 Chinese asking
for English; translation requests in group `translation`, the rest `cross_language`), each with a right answer
in the asked language and a wrong-language one (the same content in the prompt's own language); and 20 prompts
that only name a language (group `questions`), with a right answer in the prompt's language. Rows are built by
make_relevance_eval's builders (good, paired off_topic) plus a wrong_language row for every request.
FACTUAL: 40 prompts that ask for one checkable fact and 40 open ones (how, why, explain, opinion, creative,
advice, definitions), 20 English and 20 Chinese each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
LANGUAGE_OUT = DATA / "heldout2_language.jsonl"
FACTUAL_OUT = DATA / "heldout2_factual.jsonl"

# (prompt, right answer in the asked language, wrong-language answer: the same content in the prompt's language)
CROSS_EN: list[tuple[str, str, str]] = [
    ("Answer in Chinese: what are the main causes of inflation?",
     "通货膨胀的主要原因有：需求增长快于供给、生产成本（如能源和工资）上升，以及货币供应量增加过快。",
     "The main causes of inflation are demand growing faster than supply, rising production costs such as energy and wages, and the money supply growing too fast."),
    ("What's a good way to keep basil alive indoors? Please reply in Mandarin.",
     "把罗勒放在阳光充足的窗台上，每天至少晒六小时；土壤表面干了再浇水，并经常摘掉顶端的嫩叶，它会长得更茂盛。",
     "Put the basil on a sunny windowsill with at least six hours of light a day, water it when the top of the soil is dry, and pinch off the top leaves often so it grows bushier."),
    ("can u explain how vaccines work in chinese pls",
     "疫苗把减毒、灭活的病原体或它的一部分引入身体，让免疫系统提前认识它并产生抗体和记忆细胞。以后真正遇到这种病原体时，身体就能更快地把它消灭。",
     "A vaccine introduces a weakened or inactivated pathogen, or a piece of it, so the immune system learns to recognise it and makes antibodies and memory cells. When the real pathogen arrives later, the body can destroy it much faster."),
    ("I'm practising my Chinese, so please answer in Chinese only. What should I pack for a weekend hiking trip?",
     "周末徒步建议带上：舒适的登山鞋、防雨外套、足够的水和零食、防晒霜、帽子、简单的急救包，还有充好电的手机和地图。",
     "For a weekend hike, pack comfortable hiking boots, a rain jacket, enough water and snacks, sunscreen, a hat, a small first-aid kit, and a charged phone and a map."),
    ("Respond in Simplified Chinese. Why do cats purr?",
     "猫咪呼噜通常表示放松和满足，但它们在紧张、受伤或生病时也会呼噜，这可能是一种安抚自己的方式。",
     "Cats usually purr when they are relaxed and content, but they also purr when stressed, hurt or ill, probably as a way to soothe themselves."),
    ("Describe the water cycle in a few sentences, in Chinese.",
     "太阳使海洋和湖泊里的水蒸发成水蒸气。水蒸气上升后冷却，凝结成云。云中的水滴变大后以雨或雪的形式降落，再流回河流和海洋，循环往复。",
     "The sun evaporates water from oceans and lakes into vapour. The vapour rises, cools and condenses into clouds. When the droplets grow heavy they fall as rain or snow and flow back to rivers and the sea, and the cycle repeats."),
    ("Explain what a black hole is — write the answer in chinesse.",
     "黑洞是宇宙中引力极强的区域，连光都无法逃脱。它通常是大质量恒星死亡后坍缩形成的。",
     "A black hole is a region of space where gravity is so strong that not even light can escape. It usually forms when a massive star collapses at the end of its life."),
    ("Could you give me three tips for sleeping better? Answer in Chineese please.",
     "1. 每天固定时间睡觉和起床。2. 睡前一小时不要看手机。3. 下午以后少喝咖啡和浓茶。",
     "1. Go to bed and get up at the same time every day. 2. Put your phone away an hour before bed. 3. Avoid coffee and strong tea after lunch."),
    ("Write it in 中文: what are the benefits of drinking green tea?",
     "绿茶含有丰富的抗氧化物质，有助于提神、促进新陈代谢，还可能对心血管健康有好处。不过睡前最好少喝。",
     "Green tea is rich in antioxidants; it helps you stay alert, supports metabolism and may be good for heart health. It is best not to drink much before bed, though."),
    ("In Mandarin Chinese, please tell me how to make a cup of pour-over coffee.",
     "先把滤纸放进滤杯并用热水冲湿，倒入中细研磨的咖啡粉。用九十度左右的水先少量闷蒸三十秒，再以画圈的方式慢慢注水，整个过程大约三分钟。",
     "Put a paper filter in the dripper and rinse it with hot water, then add medium-fine ground coffee. Pour a little water at about 90 °C to let it bloom for thirty seconds, then pour slowly in circles; the whole brew takes about three minutes."),
    ("Please answer the following question in Simplified Chinese (简体中文). What is the difference between weather and climate?",
     "天气是某个地方短时间内的大气状况，比如今天下雨；气候是一个地区几十年来天气的平均状况，比如某地冬季寒冷干燥。",
     "Weather is the state of the atmosphere in a place over a short time, such as rain today; climate is the average weather of a region over decades, such as cold, dry winters."),
    ("Give me a short summary of the story of Romeo and Juliet. Use Chinese characters, not pinyin.",
     "罗密欧与朱丽叶出身于两个互相仇视的家族，却深深相爱并秘密结婚。由于一连串误会，罗密欧以为朱丽叶已死而服毒自尽，朱丽叶醒来后也随他而去，两家因此和解。",
     "Romeo and Juliet come from two feuding families, fall deeply in love and marry in secret. After a chain of misunderstandings Romeo believes Juliet is dead and poisons himself; Juliet wakes, finds him and kills herself, and the two families are reconciled."),
    ("What should I do if my laptop won't turn on? reply in chinese, thanks",
     "先确认充电器和插座是否正常，接上电源等几分钟再开机；然后长按电源键十五秒强制重启。如果还是不行，拔掉所有外接设备再试，仍无反应就送去维修。",
     "First check the charger and the socket, plug it in and wait a few minutes before trying again; then hold the power button for fifteen seconds to force a restart. If that fails, unplug every accessory and try again, and if there is still nothing, take it in for repair."),
    ("Kindly provide your response in the Chinese language: what are the symptoms of dehydration?",
     "脱水的常见症状包括：口渴、口干、尿少且颜色深、头晕、乏力和头痛；严重时会出现心跳加快和意识模糊。",
     "Common symptoms of dehydration are thirst, a dry mouth, little and dark urine, dizziness, tiredness and headache; in severe cases a fast heartbeat and confusion."),
]

TRANSLATE_EN: list[tuple[str, str, str]] = [
    ("Translate into Chinese: The meeting has been moved to Thursday afternoon.",
     "会议改到星期四下午了。", "The meeting has been moved to Thursday afternoon."),
    ("How do I say 'Where is the nearest subway station?' in Chinese?",
     "最近的地铁站在哪里？", "Where is the nearest subway station?"),
    ("How would you say \"I'm allergic to peanuts\" in Mandarin?",
     "我对花生过敏。", "I'm allergic to peanuts."),
    ("Can you translate this to Chinese for me? 'Thank you for your help yesterday.'",
     "谢谢你昨天的帮助。", "Thank you for your help yesterday."),
    ("What's 'happy birthday' in Chinese?", "生日快乐！", "Happy birthday!"),
    ("Chinese translation of: \"Please turn off your phone during the movie.\"",
     "电影放映期间请关闭手机。", "Please turn off your phone during the movie."),
]

CROSS_ZH: list[tuple[str, str, str]] = [
    ("用英语解释一下什么是通货膨胀。",
     "Inflation is a general rise in prices over time, which means the same amount of money buys less than it used to.",
     "通货膨胀是指物价在一段时间内普遍上涨，同样多的钱能买到的东西比以前少了。"),
    ("为什么天空是蓝色的？请用英语回答。",
     "The sky is blue because air molecules scatter short blue wavelengths of sunlight much more than the longer red ones, so blue light reaches our eyes from every direction.",
     "天空是蓝色的，因为空气分子对阳光中波长较短的蓝光散射得比红光强得多，所以我们从各个方向都能看到蓝光。"),
    ("能不能用英文给我介绍一下长城？",
     "The Great Wall of China is a series of fortifications built over many centuries to protect northern China from invasions. Its best-known sections near Beijing date from the Ming dynasty, and it is a UNESCO World Heritage Site.",
     "长城是中国古代历经多个世纪修建的一系列防御工事，用来抵御北方的入侵。北京附近最有名的几段建于明朝，它也是联合国教科文组织世界遗产。"),
    ("麻烦用English回答：怎样才能提高睡眠质量？",
     "Keep a regular sleep schedule, keep your bedroom dark and quiet, avoid screens and caffeine in the evening, and get some exercise during the day.",
     "保持规律的作息，让卧室安静、黑暗，晚上少看屏幕、别喝含咖啡因的饮料，白天适当运动。"),
    ("我在练英语阅读，下面的问题请全部用英文回答：周末在家可以做些什么有意思的事？",
     "You could cook a new recipe, read a novel, start a jigsaw puzzle, watch a classic film, or invite friends over for a board game night.",
     "可以试着做一道新菜、读一本小说、拼一幅拼图、看一部经典电影，或者请朋友来家里玩桌游。"),
    ("介绍一下大熊猫的生活习性，英文回答就好。",
     "Giant pandas live alone in the mountain bamboo forests of central China. They spend up to fourteen hours a day eating bamboo, rest in between, and do not hibernate.",
     "大熊猫独自生活在中国中部山区的竹林里，每天要花多达十四个小时吃竹子，其余时间休息，而且不冬眠。"),
    ("请你用英语作答。问题是：光合作用是怎么进行的？",
     "In photosynthesis, plants use the energy of sunlight, captured by chlorophyll, to turn carbon dioxide and water into glucose, releasing oxygen as a by-product.",
     "光合作用中，植物利用叶绿素吸收的光能，把二氧化碳和水转化为葡萄糖，同时释放出氧气。"),
    ("写一段英文的自我介绍，我是一名刚毕业的护士。",
     "Hello, my name is Li Na and I have just graduated with a nursing degree. During my clinical placements I worked in surgery and paediatrics, and I enjoy caring for patients and working in a team.",
     "大家好，我叫李娜，刚刚获得护理专业学位。实习期间我在外科和儿科工作过，我喜欢照顾病人，也喜欢团队合作。"),
    ("用应文回答：咖啡喝多了有什么坏处？",
     "Too much coffee can cause anxiety, a racing heart, trouble sleeping and an upset stomach, and you may get headaches when you cut back.",
     "咖啡喝多了可能导致焦虑、心跳加快、失眠和胃不舒服，突然减少时还可能头痛。"),
    ("回答请用英语，谢谢！问题：怎样煮出好吃的米饭？",
     "Rinse the rice two or three times, use about 1.2 times as much water as rice, bring it to the boil, then simmer covered on low heat for fifteen minutes and let it rest for ten.",
     "先把米淘洗两三遍，水和米的比例大约是1.2比1，大火煮开后盖上盖子小火煮十五分钟，再焖十分钟。"),
    ("我想给外国朋友解释什么是中秋节，帮我用英文写几句。",
     "The Mid-Autumn Festival falls on the fifteenth day of the eighth lunar month, when the moon is at its fullest. Families get together, admire the moon and eat mooncakes, which stand for reunion.",
     "中秋节在农历八月十五，这一天月亮最圆。家人团聚在一起赏月、吃月饼，象征着团圆。"),
    ("说说你对远程办公的看法吧，要用英文。",
     "Remote work saves commuting time and gives people more flexibility, but it can make collaboration harder and blur the line between work and home. A mix of office and home days often works best.",
     "远程办公节省了通勤时间，也更灵活，但可能让协作变难，工作和生活的界限也会变模糊。办公室和在家结合的方式往往效果最好。"),
    ("请务必使用英文回复：如何预防感冒？",
     "Wash your hands often, avoid touching your face, get enough sleep, eat a balanced diet, stay active, and keep away from people who are already sick.",
     "经常洗手，不要用手摸脸，保证充足睡眠，饮食均衡，多运动，并尽量远离已经生病的人。"),
    ("孩子问我彩虹是怎么形成的，你能用简单的英语讲讲吗？",
     "A rainbow appears when sunlight shines through raindrops. Each drop bends the light and splits it into its colours, red, orange, yellow, green, blue and violet, so we see a coloured arc in the sky.",
     "阳光照进雨滴时就会出现彩虹。每一滴雨都会让光线弯折，并把它分成红、橙、黄、绿、蓝、紫等颜色，于是我们在天空中看到一道彩色的弧。"),
]

TRANSLATE_ZH: list[tuple[str, str, str]] = [
    ("把这句话翻译成英文：明天的会议改到下午三点。",
     "Tomorrow's meeting has been moved to 3 p.m.", "明天的会议改到下午三点了。"),
    ("“我对海鲜过敏”用英语怎么说？", "I'm allergic to seafood.", "我对海鲜过敏。"),
    ("谢谢你的帮助 英文怎么说", "Thank you for your help.", "谢谢你的帮助。"),
    ("翻译成英语：这家餐厅的菜又便宜又好吃。",
     "The food at this restaurant is cheap and delicious.", "这家餐厅的菜又便宜又好吃。"),
    ("请帮我把“请勿吸烟”译成英文。", "No smoking, please.", "请勿吸烟。"),
    ("中译英：我已经在这个城市住了五年了。", "I have lived in this city for five years.", "我已经在这个城市住了五年了。"),
]

# prompts that name a language without asking for one, each with a right answer in the prompt's own language
NAMING_EN: list[tuple[str, str]] = [
    ("Is Mandarin harder to learn than Japanese?",
     "For English speakers both are rated among the hardest languages. Mandarin has tones and thousands of characters, while Japanese mixes three writing systems and has complex politeness levels, so which is harder depends on the learner."),
    ("Why does Chinese use characters instead of an alphabet?",
     "Chinese writing grew out of pictures and symbols more than three thousand years ago, and because the language has many words that sound alike, characters that carry meaning help tell them apart. They also let speakers of very different dialects read the same text."),
    ("What's the difference between Cantonese and Mandarin?",
     "They are different Chinese languages: Mandarin is the official language of mainland China and Taiwan, while Cantonese is spoken in Guangdong and Hong Kong. Cantonese has more tones, and the two are mostly not mutually intelligible when spoken."),
    ("Is English the official language of the United States?",
     "A March 2025 executive order designated English the official language of the United States. Before that the country had no official language at the federal level, although English was by far the most widely used and many states had made it official."),
    ("How long does it take an English speaker to learn Chinese?",
     "The US Foreign Service Institute estimates about 88 weeks, or 2,200 class hours, of full-time study for an English speaker to reach professional working proficiency in Mandarin."),
    ("Can you recommend a good app for learning Chinese?",
     "Popular choices are Pleco, a dictionary with flashcards, HelloChinese for beginners, and Anki for spaced-repetition review of characters and vocabulary."),
    ("Why is English spelling so inconsistent?",
     "English spelling was largely fixed before the Great Vowel Shift had finished changing pronunciation, and the language borrowed words from French, Latin, Greek and many others while keeping their spellings."),
    ("What does the Chinese character 人 mean?",
     "The character 人 (rén) means \"person\" or \"people\". It is one of the simplest characters and looks like a person walking, drawn with two strokes."),
    ("Who made the first translation of the Bible into English?",
     "The first complete translation of the Bible into English is credited to John Wycliffe and his followers in the 1380s, translated from the Latin Vulgate."),
    ("How should I reply in Chinese when someone thanks me?",
     "The most common reply is 不客气 (bú kèqi), \"you're welcome\". You can also say 没事 (méi shì) or 不用谢 (bú yòng xiè) in casual situations."),
]

NAMING_ZH: list[tuple[str, str]] = [
    ("英语的语法难不难？", "英语语法整体不算特别难：名词没有复杂的变格，动词变化也比较少。难点主要在时态、冠词和大量的不规则动词上。"),
    ("为什么很多中国学生学了十几年英语还是不会说？",
     "主要是因为过去的教学偏重考试和阅读，课堂上开口练习的机会很少，平时也缺少使用英语的环境，再加上怕说错，就越来越不敢说。"),
    ("普通话和粤语有什么区别？", "普通话以北京语音为标准音，有四个声调；粤语主要在广东、香港和澳门使用，声调更多，词汇和语法也有不少差别，口语上基本不能互通。"),
    ("英文里为什么有那么多不规则动词？", "不规则动词大多是古英语留下来的常用词，因为使用频率高，旧的变化形式一直被保留下来，没有被规则的“加-ed”同化。"),
    ("学中文的外国人最怕什么？", "很多外国人最怕声调和汉字：声调读错意思就变了，汉字又要一个一个地记，书写也比较复杂。"),
    ("孩子几岁开始学英语比较合适？", "一般认为三到六岁开始接触英语比较合适，这时孩子对语音很敏感。但关键是以兴趣为主，多听多玩，不要给孩子太大压力。"),
    ("汉语拼音是谁发明的？", "现行的汉语拼音方案是由以周有光为代表的专家委员会制定的，1958年正式公布，所以周有光常被称为“汉语拼音之父”。"),
    ("英语是联合国的官方语言吗？", "是的。联合国有六种官方语言：英语、法语、中文、俄语、西班牙语和阿拉伯语。"),
    ("用英语面试的时候紧张怎么办？", "可以提前准备常见问题的回答并大声练习几遍，面试时放慢语速，没听清就礼貌地请对方重复。记住，面试官更看重内容，而不是口音。"),
    ("中文翻译成英文的时候，最容易犯哪些错误？", "常见的错误有逐字直译、漏掉冠词和单复数、时态用错，以及把中文的长句原样搬过去，读起来很不自然。"),
]

# one checkable fact each, phrased every way users ask
FACTUAL_EN = [
    "Name the largest planet in the solar system.",
    "Tell me the boiling point of water at sea level in Fahrenheit.",
    "Australia's capital?",
    "Which element has the chemical symbol Fe?",
    "How many moons does Mars have?",
    "Who painted The Starry Night?",
    "What year did the Berlin Wall fall?",
    "What is fifteen plus twenty-seven?",
    "In which country is Machu Picchu?",
    "How many minutes are there in a day?",
    "who wrote the great gatsby",
    "What's the tallest mountain in Africa?",
    "Quick question: what's the currency of Japan?",
    "When did the first Moon landing happen?",
    "What is the square root of one hundred forty-four?",
    "Can you tell me the chemical formula for table salt?",
    "Which ocean is the largest?",
    "At what temperature does water freeze in Celsius?",
    "How many strings does a standard violin have?",
    "Who was the first woman to win a Nobel Prize?",
]
FACTUAL_ZH = [
    "世界上最长的河流是哪条？",
    "日本的首都叫什么？",
    "《三体》的作者是谁？",
    "第一次世界大战是哪一年爆发的？",
    "请告诉我水的化学式。",
    "一打鸡蛋是几个？",
    "十二乘以十二等于多少？",
    "珠穆朗玛峰有多高？",
    "太阳系中离太阳最近的行星是哪颗？",
    "人体最大的器官叫什么？",
    "中国的国土面积大约是多少平方公里？",
    "李白是哪个朝代的诗人？",
    "光速是每秒多少公里？",
    "北京奥运会是哪一年举办的？",
    "请问金的元素符号是什么？",
    "法国的首都？",
    "清明上河图是谁画的",
    "一公里等于多少米？",
    "鲁迅的原名叫什么？",
    "地球上有几个大洋？",
]
# open prompts: no single checkable fact (how, why, explain, opinion, creative, advice, definitions)
OPEN_EN = [
    "How do I stay motivated when studying alone?",
    "Why do people procrastinate?",
    "Explain how a refrigerator keeps food cold.",
    "What do you think about a four-day working week?",
    "Write a short poem about autumn rain.",
    "What is democracy?",
    "Give me some advice on negotiating a raise.",
    "How does compound interest work?",
    "Why is the ocean salty?",
    "Describe a typical day in ancient Rome.",
    "What are the pros and cons of electric cars?",
    "Can you help me plan a three-day trip to Kyoto?",
    "How should I prepare for a job interview?",
    "Tell me a story about a dragon who is afraid of fire.",
    "What's the difference between a virus and a bacterium?",
    "Which is better for a beginner, Python or JavaScript, and why?",
    "How can I make my small apartment feel bigger?",
    "What does \"opportunity cost\" mean?",
    "Summarize the main ideas of Stoicism.",
    "Name a few ways to reduce food waste at home.",
]
OPEN_ZH = [
    "怎样才能养成早起的习惯？",
    "为什么年轻人越来越不愿意结婚？",
    "请解释一下区块链的原理。",
    "你觉得人工智能会取代医生吗？",
    "写一首关于春天的小诗。",
    "什么是幸福？",
    "给我一些减肥的建议。",
    "如何跟青春期的孩子沟通？",
    "为什么秋天树叶会变黄？",
    "谈谈你对传统文化的理解。",
    "帮我写一封请假邮件。",
    "在大城市工作和回老家工作，哪个更好？",
    "红烧肉怎么做？",
    "讲一个关于狐狸的童话故事。",
    "请告诉我如何缓解工作压力。",
    "学习编程应该从哪里开始？",
    "说说电动车和燃油车各有什么优缺点。",
    "什么叫机会成本？请举例说明。",
    "失眠了怎么办？",
    "请谈谈读书的意义。",
]


def items_of(prefix: str, requests: dict[str, list[tuple[str, str, str]]],
             unrequested: dict[str, list[tuple[str, str]]]) -> list[dict]:
    """Every language prompt of a held-out set as make_relevance_eval's builders take it (id, group,
    prompt_language, prompt, written, language: the asked language, or the prompt's where none is asked) plus
    `wrong` for a request. requests: CROSS_EN, CROSS_ZH, TRANSLATE_EN, TRANSLATE_ZH by key; unrequested: the
    prompts without a request by language."""
    items: list[dict] = []
    for key, group, prompt_language, asked in (
            ("cross-en", "cross_language", "en", "zh"), ("cross-zh", "cross_language", "zh", "en"),
            ("translate-en", "translation", "en", "zh"), ("translate-zh", "translation", "zh", "en")):
        items += [{"id": f"{prefix}-{key}-{i}", "group": group, "prompt_language": prompt_language, "prompt": prompt,
                   "written": right, "language": asked, "wrong": wrong}
                  for i, (prompt, right, wrong) in enumerate(requests[key])]
    for prompt_language, cases in unrequested.items():
        items += [{"id": f"{prefix}-question-{prompt_language}-{i}", "group": "questions",
                   "prompt_language": prompt_language, "prompt": prompt, "written": right, "language": prompt_language}
                  for i, (prompt, right) in enumerate(cases)]
    return items


def language_items() -> list[dict]:
    return items_of("h2", {"cross-en": CROSS_EN, "cross-zh": CROSS_ZH, "translate-en": TRANSLATE_EN,
                           "translate-zh": TRANSLATE_ZH}, {"en": NAMING_EN, "zh": NAMING_ZH})


def language_rows() -> list[dict]:
    """make_relevance_eval.build's rows (good, paired off_topic) and a wrong_language row for every request,
    translations included (build gives those only to cross_language prompts)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_relevance_eval

    items = language_items()
    return make_relevance_eval.build([], items, {}) + wrong_language_rows(items)


def wrong_language_rows(items: list[dict]) -> list[dict]:
    """A wrong_language row for every request among items, in make_relevance_eval.row's shape."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_relevance_eval

    return [make_relevance_eval.row(item, f"{item['id']}:wrong-language", item["wrong"], "wrong_language", "written")
            for item in items if "wrong" in item]


def written_rows_of(items: list[dict]) -> list[dict]:
    """The later held-out sets' rows: a good row for every prompt and a wrong_language row for every request. No
    paired off_topic rows: those sets measure the language rules only."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_relevance_eval

    good = [make_relevance_eval.row(item, f"{item['id']}:written", item["written"], "good", "written")
            for item in items]
    return good + wrong_language_rows(items)


def factual_rows_of(prefix: str, factual: dict[str, list[str]], open_prompts: dict[str, list[str]]) -> list[dict]:
    """{id, language, prompt, factual} of a held-out set's factual and open prompts, each by language."""
    rows = []
    for kind, is_factual, by_language in (("fact", True, factual), ("open", False, open_prompts)):
        for language in ("en", "zh"):
            rows += [{"id": f"{prefix}-{kind}-{language}-{i}", "language": language, "prompt": prompt,
                      "factual": is_factual} for i, prompt in enumerate(by_language[language])]
    return rows


def factual_rows() -> list[dict]:
    return factual_rows_of("h2", {"en": FACTUAL_EN, "zh": FACTUAL_ZH}, {"en": OPEN_EN, "zh": OPEN_ZH})


def write(rows: list[dict], out: Path) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    write(language_rows(), LANGUAGE_OUT)
    write(factual_rows(), FACTUAL_OUT)
