# ruff: noqa: E501 - prompt and answer data, much of it Chinese (E501 counts each CJK character as two columns)
"""A third held-out set for the answer-language request parser and asks_for_fact (issue 26), written blind.

Written on 2026-12-08 without opening healthmon/quality/language.py, healthmon/quality/relevance.py, their tests,
any earlier prompt set or its data (relevance_eval_prompts, relevance_heldout_prompts, heldout2_prompts' lists,
factual_questions*, benchmarks/data/*.jsonl), after the parser and asks_for_fact had been tuned on both earlier
held-out sets; so these are the final figures' out-of-sample data. Cases are what users write, not what the rules
read; none is to be edited after the first measurement, and no rule is to be changed on its misses.
After the first commit (85b74b9) and before any measurement, tests/test_heldout3.py found 19 prompts and 2 short
translation answers already in earlier sets (common questions: capitals, authors, stock phrases); they were
replaced by new ones, and one wrong-language answer's English author names were written in Chinese.

    python benchmarks/heldout3_prompts.py   # writes data/heldout3_language.jsonl and data/heldout3_factual.jsonl

LANGUAGE: 30 prompts that ask for the answer in the other language (15 English asking for Chinese, 15 Chinese
asking for English; translation requests in group `translation`, the rest `cross_language`), each with a right
answer in the asked language (label good) and a wrong-language one (label wrong_language: the same content in
the prompt's own language); and 20 prompts with no language request (group `questions`, 10 English, 10 Chinese,
half of them naming a language as their topic), each with a right answer in the prompt's language. Rows are
make_relevance_eval.row's shape; unlike heldout2 there are no paired off_topic rows (this set measures
language_mismatch and the parser only).
FACTUAL: 25 prompts that ask for one checkable fact (13 English, 12 Chinese) and 25 open ones (explanations,
opinions, advice, creative, how and why; 13 English, 12 Chinese).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
LANGUAGE_OUT = DATA / "heldout3_language.jsonl"
FACTUAL_OUT = DATA / "heldout3_factual.jsonl"

# (prompt, right answer in the asked language, wrong-language answer: the same content in the prompt's language)
CROSS_EN: list[tuple[str, str, str]] = [
    ("Can you explain how photosynthesis works? Please answer in Chinese.",
     "光合作用是植物利用阳光、水和二氧化碳制造葡萄糖并释放氧气的过程。它主要在叶片的叶绿体里进行，叶绿素负责吸收光能。",
     "Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to make glucose and release oxygen. It happens mainly in the chloroplasts of the leaves, where chlorophyll absorbs the light."),
    ("reply in mandarin pls: what should i pack for a 3 day hiking trip",
     "三天徒步建议带：合脚的登山鞋、速干衣物和一件防风外套、足够的水和高能量零食、头灯、急救包、防晒霜，以及离线地图或指南针。",
     "For a three-day hike, bring: broken-in hiking boots, quick-dry clothes and a windproof jacket, enough water and high-energy snacks, a headlamp, a first-aid kit, sunscreen, and an offline map or a compass."),
    ("In Simplified Chinese, give me three tips for sleeping better.",
     "一、每天固定时间上床和起床；二、睡前一小时不要看手机，让大脑放松下来；三、下午以后少喝咖啡和浓茶，卧室保持安静、凉爽、昏暗。",
     "First, go to bed and get up at the same time every day. Second, put your phone away an hour before bed so your brain can wind down. Third, avoid coffee and strong tea after lunch, and keep the bedroom quiet, cool and dark."),
    ("I'm learning Chinese so answer only in Chinese. What do people in Beijing usually eat for breakfast?",
     "北京人早饭常吃豆浆油条、包子、煎饼果子，也有人喝豆汁配焦圈，或者来一碗炒肝、一碗馄饨。",
     "People in Beijing often have soy milk with fried dough sticks, steamed buns or jianbing for breakfast; some drink douzhi with crispy rings, or have a bowl of stewed liver or wonton soup."),
    ("Write a short birthday message for my grandmother, in chinese (she can't read english).",
     "亲爱的奶奶，祝您生日快乐！愿您身体健康、天天开心。谢谢您一直以来对我的疼爱，我很想您，周末就回家看您。",
     "Dear Grandma, happy birthday! I wish you good health and happiness every day. Thank you for always loving me so much. I miss you and I'll come home to see you this weekend."),
    ("What's the difference between a virus and bacteria? respond in chineese",
     "细菌是能独立生存和繁殖的单细胞生物，很多可以用抗生素治疗；病毒比细菌小得多，必须进入宿主细胞才能复制，抗生素对它无效。",
     "Bacteria are single-celled organisms that can live and reproduce on their own, and many can be treated with antibiotics. Viruses are much smaller and can only copy themselves inside a host cell, so antibiotics do not work on them."),
    ("Describe the Great Wall in two sentences. Your answer should be written in Mandarin Chinese.",
     "长城是中国古代为抵御北方游牧民族而修建的防御工程，东起山海关，西至嘉峪关，绵延上万里。它是世界上最著名的建筑奇迹之一，也是中华民族的象征。",
     "The Great Wall is a defensive work built in ancient China against the nomadic peoples of the north, running from Shanhaiguan in the east to Jiayuguan in the west. It is one of the most famous feats of building in the world and a symbol of the Chinese nation."),
    ("Could you answer the following in 中文? How do I reset my wifi router?",
     "找到路由器背面的复位小孔，通电状态下用牙签或卡针按住约十秒，等指示灯全部闪烁后松开。路由器重启后会恢复出厂设置，需要重新设置网络名称和密码。",
     "Find the small reset hole on the back of the router, and while it is powered on press it with a toothpick or SIM pin for about ten seconds until all the lights flash. After it restarts it is back to factory settings, so you will need to set the network name and password again."),
    ("Use Chinese characters for your reply. Why is the sky blue?",
     "因为阳光穿过大气层时，空气分子对波长较短的蓝光散射得更强，这叫瑞利散射。被散射的蓝光从四面八方进入我们的眼睛，所以天空看起来是蓝色的。",
     "When sunlight passes through the atmosphere, air molecules scatter short-wavelength blue light much more strongly; this is called Rayleigh scattering. The scattered blue light reaches our eyes from every direction, so the sky looks blue."),
    ("Explain what inflation is to a 10 year old. Answer me in Chinese, simplified characters please.",
     "通货膨胀就是东西慢慢变贵了。以前十块钱能买两个冰淇淋，现在同样的十块钱只能买一个，说明钱能买到的东西变少了。",
     "Inflation means things slowly get more expensive. If ten dollars used to buy two ice creams and now the same ten dollars buys only one, your money buys less than it did."),
]

TRANSLATE_EN: list[tuple[str, str, str]] = [
    ("Translate into Chinese: The dentist appointment is at 9:30 on Friday morning.",
     "牙医预约在星期五上午九点半。",
     "The dentist appointment is at 9:30 on Friday morning."),
    ("How do you say \"Is there a pharmacy around here that's open late?\" in Mandarin?",
     "这附近有开到很晚的药店吗？",
     "Is there a pharmacy around here that's open late?"),
    ("can you translate this to simplified chinese for me: I'm allergic to peanuts.",
     "我对花生过敏。",
     "I'm allergic to peanuts."),
    ("Please translate the following into Chinese: Thank you for your patience, your order will arrive tomorrow.",
     "感谢您的耐心等待，您的订单明天送达。",
     "Thank you for your patience, your order will arrive tomorrow."),
    ("what's 'happy new year, wishing you good health' in chinese",
     "新年快乐，祝你身体健康！",
     "Happy new year, wishing you good health!"),
]

CROSS_ZH: list[tuple[str, str, str]] = [
    ("请用英文回答：怎样提高记忆力？",
     "Get enough sleep, because memories are consolidated while you sleep. Review what you learn at spaced intervals instead of cramming, exercise regularly, and try explaining new material to someone else in your own words.",
     "保证充足的睡眠，因为记忆是在睡眠中巩固的。学过的内容要间隔复习，不要临时突击；坚持锻炼，并试着用自己的话把新知识讲给别人听。"),
    ("介绍一下长城，用英语。",
     "The Great Wall of China is a series of fortifications built over many centuries to protect the northern borders. The best-known sections were built during the Ming dynasty, and it stretches for thousands of kilometres across mountains and deserts.",
     "长城是历朝历代为保护北方边境而修建的一系列防御工事。最有名的部分建于明朝，它横跨山岭和沙漠，绵延数千公里。"),
    ("我在准备雅思口语，你能用英文跟我说说你最喜欢的季节吗？",
     "My favourite season is autumn. The weather is cool and dry, the leaves turn red and gold, and it's perfect for long walks in the park. I also love autumn food, like roasted chestnuts and sweet potatoes.",
     "我最喜欢的季节是秋天。天气凉爽干燥，树叶变成红色和金色，特别适合在公园里散步。我也很喜欢秋天的食物，比如糖炒栗子和烤红薯。"),
    ("为什么海水是咸的？请全部用英语作答。",
     "Rain slowly wears down rocks on land and carries dissolved minerals, mostly sodium and chloride, into rivers and then the sea. When seawater evaporates the salt stays behind, so over millions of years the ocean has become salty.",
     "雨水慢慢侵蚀陆地上的岩石，把溶解的矿物质（主要是钠和氯）带进河流，最后流入大海。海水蒸发时盐分留了下来，经过数百万年的积累，海水就变咸了。"),
    ("给我写一封请假邮件，英文的，因为我明天要去看病。",
     "Subject: Sick leave request for tomorrow\n\nHi Sarah,\n\nI have a doctor's appointment tomorrow and won't be able to come in. I'd like to request one day of sick leave. I'll make sure my tasks are covered and will be reachable by email if anything urgent comes up.\n\nThank you,\nLi Wei",
     "主题：明天请病假\n\n莎拉你好：\n\n我明天要去医院看病，没法来上班，想请一天病假。我会安排好手头的工作，如有急事可以发邮件联系我。\n\n谢谢！\n李伟"),
    ("用English解释一下什么是区块链",
     "A blockchain is a shared digital ledger kept by many computers at once. Records are grouped into blocks, and each block is linked to the one before it with a cryptographic hash, so changing an old record would mean rewriting every block after it on most of the network.",
     "区块链是一种由许多计算机共同维护的数字账本。记录被打包成一个个区块，每个区块通过加密哈希与前一个区块相连，所以想改动旧记录，就得在大部分网络上重写它之后的所有区块。"),
    ("能不能用英文简单说一下熊猫吃什么？",
     "Giant pandas eat almost nothing but bamboo, up to 12 to 38 kilograms a day. Now and then they also eat small animals, eggs or fruit, but bamboo makes up about 99 percent of their diet.",
     "大熊猫几乎只吃竹子，一天能吃12到38公斤。偶尔也会吃小动物、鸟蛋或水果，但竹子占了它们食物的百分之九十九左右。"),
    ("回答时请使用英语。问题：咖啡因对身体有什么影响？",
     "Caffeine blocks adenosine, a chemical that makes you feel tired, so it keeps you alert and can improve focus. Too much can cause a racing heart, anxiety, an upset stomach and trouble sleeping, so most adults should stay under about 400 mg a day.",
     "咖啡因会阻断让人感到疲倦的腺苷，所以能让人保持清醒、提高注意力。摄入过多会引起心跳加快、焦虑、胃不舒服和失眠，一般成年人每天最好不超过400毫克左右。"),
    ("请以英文回复：推荐几本适合初学者的编程书。",
     "Good books for beginners: \"Automate the Boring Stuff with Python\" by Al Sweigart, \"Python Crash Course\" by Eric Matthes, and \"Eloquent JavaScript\" by Marijn Haverbeke if you want to build for the web. \"Code\" by Charles Petzold is a great read on how computers work.",
     "适合初学者的书有：斯维加特的《Python编程快速上手》，马瑟斯的《Python编程：从入门到实践》；想做网页的话可以看哈弗贝克的《JavaScript编程精解》。佩措尔德的《编码》很适合了解计算机是怎么工作的。"),
    ("帮我用英语写一段话介绍春节的习俗，我要发给外国同事",
     "Spring Festival, or Chinese New Year, is the most important holiday in China. Families travel home for a big reunion dinner on New Year's Eve, put up red couplets on their doors, set off fireworks, and give children red envelopes with money for good luck.",
     "春节也就是中国新年，是中国最重要的节日。人们会赶回家，在除夕夜吃一顿丰盛的团圆饭，在门上贴红色的春联，放鞭炮，还会给孩子们发装着钱的红包，图个吉利。"),
]

TRANSLATE_ZH: list[tuple[str, str, str]] = [
    ("把这句话翻译成英文：明天下午三点在会议室开会。",
     "We will have a meeting in the conference room at 3 p.m. tomorrow.",
     "明天下午三点在会议室开会。"),
    ("帮我翻译成英语：这家餐厅的菜太咸了",
     "The food at this restaurant is too salty.",
     "这家餐厅的菜太咸了。"),
    ("“随便”用英文怎么表达？",
     "You can say \"Whatever you like\" or \"I don't mind\"; if someone asks what you want to eat, \"Anything is fine.\"",
     "可以说“随你”或者“我都行”；别人问你想吃什么的时候，可以说“吃什么都行”。"),
    ("请将下面的句子译成英文：我搬到这个城市已经快八年了。",
     "It's been almost eight years since I moved to this city.",
     "我搬到这个城市已经快八年了。"),
    ("我想退掉这双鞋，尺码太小了。——这句英文怎么讲？",
     "I'd like to return these shoes; they're too small.",
     "我想退掉这双鞋，尺码太小了。"),
]

# (prompt, right answer in the prompt's language); no language is asked for, though half name one as the topic
QUESTIONS_EN: list[tuple[str, str]] = [
    ("Is Korean grammar similar to Japanese?",
     "Yes, quite similar. Both put the verb at the end of the sentence, use particles to mark subject and object, and have polite speech levels built into the verb endings, so a Japanese speaker finds Korean grammar familiar, though the vocabulary and writing are different."),
    ("Why do so many English words come from French?",
     "Mostly because of the Norman Conquest in 1066. For about three centuries the ruling class in England spoke Norman French, so words for law, government, food and fashion entered English, and later borrowing from French and Latin added many more."),
    ("How long does it take an English speaker to become fluent in Mandarin?",
     "The US Foreign Service Institute puts Mandarin in its hardest group, at around 2,200 class hours, roughly 88 weeks of full-time study. Most people studying part-time need several years to hold comfortable conversations and read everyday texts."),
    ("what's the best app for learning spanish",
     "It depends on how you learn. Duolingo is good for a daily habit, Babbel teaches grammar more clearly, and apps like italki or Tandem let you practise speaking with real people, which is what most learners end up needing."),
    ("Do Cantonese and Mandarin use the same written characters?",
     "Mostly, yes, but not entirely. Formal written Chinese is shared, though Hong Kong and Macau use traditional characters while mainland China uses simplified ones. Written colloquial Cantonese also has its own characters, such as 佢 and 嘅, that Mandarin does not use."),
    ("How do I get red wine out of a carpet?",
     "Blot, don't rub, to soak up as much as you can. Then pour a little cold water on it and blot again, or cover it with a paste of baking soda and water, let it dry and vacuum. For an old stain, a mix of dish soap and hydrogen peroxide usually works, but test it on a hidden spot first."),
    ("What are the symptoms of dehydration?",
     "Common signs are thirst, dark yellow urine or urinating less, a dry mouth, tiredness, dizziness and headaches. Severe dehydration can cause a fast heartbeat, confusion and fainting, and needs medical care."),
    ("Should I use a credit card or debit card when traveling abroad?",
     "A credit card is usually the better choice: it has stronger fraud protection, and a problem doesn't drain your bank account. Pick one without foreign transaction fees, and keep a debit card only for withdrawing cash from ATMs."),
    ("Why does my bread get hard after a couple of days?",
     "Mostly because of starch retrogradation: after baking, the starch molecules slowly recrystallise and push out water, which makes the crumb firm and dry. That's why stale bread softens again for a while when you warm it."),
    ("can you suggest a name for my new golden retriever puppy?",
     "How about Sunny, Maple or Biscuit? For a golden coat, Honey, Ginger or Goldie also fit, and if you want something a bit funny, try Waffles."),
]

QUESTIONS_ZH: list[tuple[str, str]] = [
    ("德语难学吗？",
     "对中国人来说，德语入门有一定难度：名词有三种性，还有四个格，形容词词尾变化也多。不过它的发音比较规则，基本上怎么写就怎么读，坚持下来还是能学好的。"),
    ("为什么英语里有那么多不规则动词？",
     "因为这些动词大多是古英语里最常用的词，保留了古老的变化方式。越常用的词越不容易被规则同化，所以 go、be、have 这类词到今天还是不规则的。"),
    ("学中文的外国人觉得哪个声调最难？",
     "很多外国学生觉得第三声最难，因为它要先降再升，在连读时还会变调；也有不少人分不清第二声和第三声。"),
    ("粤语和普通话的发音差别大吗",
     "差别很大。粤语有六到九个声调，普通话只有四个；粤语还保留了普通话已经消失的入声和一些韵尾，所以两种话基本无法直接互相听懂。"),
    ("日语里的汉字和中文的意思一样吗？",
     "大部分意思相近，但也有不少“同形异义”的词。比如日语的“手紙”是信，“勉強”是学习，“大丈夫”是没关系，和中文的意思完全不同。"),
    ("晚上睡不着怎么办？",
     "可以试着固定作息时间，睡前一小时放下手机，洗个热水澡或者听点轻音乐。如果躺了二十分钟还睡不着，就起来做点安静的事，有困意再回床上。长期失眠最好去看医生。"),
    ("猫为什么喜欢踩奶？",
     "踩奶是小猫吃奶时按压妈妈乳房的动作，长大后保留了下来。猫踩奶通常说明它很放松、很有安全感，同时爪子上的腺体也会留下气味，算是在标记自己的地盘。"),
    ("买二手车要注意什么？",
     "首先查清车辆的维修保养记录和出险记录，看看是不是事故车、泡水车；其次要试驾，注意发动机、变速箱和底盘有没有异响；最好请懂车的朋友或第三方机构检测，手续要齐全再过户。"),
    ("绿茶和红茶有什么区别？",
     "主要区别在于发酵。绿茶不发酵，保留了较多茶多酚，颜色清绿、味道清爽；红茶是全发酵茶，茶汤红亮，口感醇厚甜润，性质也更温和。"),
    ("怎么给植物换盆",
     "先选一个比原来大一两号的花盆，底部铺上碎瓦片或陶粒排水。换盆前一天浇透水，然后把植物连土倒出来，修掉烂根，放进新盆里填上新土，浇透水后放在阴凉处缓几天。"),
]

# One checkable fact each
FACTUAL_EN = [
    "What's the capital city of Australia?",
    "who's the author of wuthering heights",
    "How many bones does an adult human have?",
    "When did the Berlin Wall come down?",
    "What's the atomic number of carbon?",
    "Tell me the boiling point of water in Fahrenheit.",
    "What is the smallest country in the world by area?",
    "How tall is Mount Everest in meters?",
    "Name the tallest waterfall in the world.",
    "Which artist painted The Night Watch?",
    "What year did the first iPhone come out?",
    "What's 17 times 23?",
    "Do you know who invented the telephone?",
]

FACTUAL_ZH = [
    "加拿大的首都是哪座城市？",
    "《狂人日记》是谁写的",
    "平年有多少天？",
    "光在真空中的速度是多少？",
    "地球上最大的海洋叫什么名字？",
    "鲁迅原名叫什么？",
    "唐朝是哪一年建立的？",
    "食盐的化学成分是什么",
    "中国一共有多少个省级行政区？",
    "长江全长多少公里？",
    "请问月球绕地球转一圈要多少天？",
    "156除以12等于几？",
]

# Explanations, opinions, advice, creative writing, how and why: no single checkable fact
OPEN_EN = [
    "Why do people procrastinate, and how can I stop?",
    "Explain how a neural network learns, in simple terms.",
    "What do you think about working from home?",
    "Write a limerick about a cat who hates Mondays.",
    "How should I prepare for a job interview at a startup?",
    "Give me some ideas for a cheap date night.",
    "What are the pros and cons of living in a big city?",
    "How do vaccines train the immune system?",
    "Tell me a bedtime story about a brave little turtle.",
    "Is it worth learning to code at 40?",
    "why do cats knock things off tables",
    "Help me plan a weekend in Kyoto.",
    "What makes someone a good leader?",
]

OPEN_ZH = [
    "如何培养孩子的阅读习惯？",
    "你觉得人工智能会取代程序员吗？",
    "写一首关于故乡的小诗。",
    "为什么年纪越大觉得时间过得越快？",
    "解释一下什么是通货膨胀",
    "怎样才能坚持健身？",
    "给我讲一个关于狐狸的童话故事。",
    "周末一个人在家可以做些什么？",
    "租房和买房哪个更划算？",
    "帮我想几个奶茶店的名字",
    "如何跟同事处理好关系？",
    "量子计算和普通计算有什么不同？",
]


def language_items() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import items_of

    return items_of("h3", {"cross-en": CROSS_EN, "cross-zh": CROSS_ZH, "translate-en": TRANSLATE_EN,
                           "translate-zh": TRANSLATE_ZH}, {"en": QUESTIONS_EN, "zh": QUESTIONS_ZH})


def language_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import written_rows_of

    return written_rows_of(language_items())


def factual_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import factual_rows_of

    return factual_rows_of("h3", {"en": FACTUAL_EN, "zh": FACTUAL_ZH}, {"en": OPEN_EN, "zh": OPEN_ZH})


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import write

    write(language_rows(), LANGUAGE_OUT)
    write(factual_rows(), FACTUAL_OUT)
