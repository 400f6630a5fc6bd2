# ruff: noqa: E501 - prompt and answer data, much of it Chinese (E501 counts each CJK character as two columns)
"""A sixth held-out set for the answer-language rules (language_mismatch, issue 26), written blind.

Written on 2026-12-08 by a helper (an AI model) asked to write what users really write, before the rules were
changed again. The writer did not open healthmon/quality/ (any file), tests/test_quality_* (any),
tests/test_relevance_heldout.py, benchmarks/data/*.jsonl, the prompt lists of heldout2..heldout5_prompts.py (only
their docstrings' first lines and the builder functions at their ends: items_of, write, heldout3's
language_items/language_rows), benchmarks/relevance_*prompts.py, benchmarks/quality_eval_*.py, BENCHMARKS.md, nor
the history of any of those. No forbidden content was seen. Its overlap test (now
tests/test_heldout_language_sets.py) checks that no prompt here is in an earlier set or the parser's test tables
(it compares keys and names only this set's colliding prompts). Its first run found 3 of the first 50 prompts already seen (a cross-language request about a mortgage escrow account,
an English question about Spanish's two verbs for 'to be', a Chinese one about when English uses the present
perfect); they were replaced by new prompts on other topics (a HELOC, German noun genders, Korean honorifics)
before the data was committed.

Built like heldout3's language set: CROSS_EN / CROSS_ZH are 10 prompts per language asking for the answer in the
other language, TRANSLATE_EN / TRANSLATE_ZH 5 per language asking for a translation into the other one (or how a
phrase is said in it), each as (prompt, right answer in the asked language, wrong-language answer: the same content
in the prompt's language, or the text left untranslated); QUESTIONS_EN / QUESTIONS_ZH are 10 prompts per language
with no request, each (prompt, right answer in the prompt's language), 5 of them naming a language as their topic.
language_rows() makes a good row per prompt and a wrong_language row per request; `python
benchmarks/heldout6_prompts.py` writes benchmarks/data/heldout6_language.jsonl. No factual part, no measurement here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE_OUT = ROOT / "benchmarks" / "data" / "heldout6_language.jsonl"

# English prompts that ask for the answer in Chinese: (prompt, right answer in Chinese, the same in English)
CROSS_EN: list[tuple[str, str, str]] = [
    ("my dad keeps asking me what a HELOC is, can u explain it in chinese so i can just forward it to him",
     "HELOC是房屋净值信贷额度：用房子里已经还清的那部分价值作抵押，银行给你一个随借随还的额度，只对实际借出来的钱计息。",
     "A HELOC is a home equity line of credit: the bank gives you a revolving credit line secured by the part of your home you've already paid off, and you only pay interest on what you actually borrow."),
    ("Could you answer in Mandarin? My grandmother wants to know why her phone battery drains so fast overnight.",
     "夜里掉电快，通常是因为后台应用还在刷新、定位一直开着，或者信号不好让手机不停地搜网络。可以在设置里关掉不用的后台刷新和定位，睡前打开省电模式。",
     "Fast overnight drain is usually caused by apps refreshing in the background, location services staying on, or a weak signal that keeps the phone searching for a network. Turn off background refresh and location for apps she doesn't use, and switch on battery saver before bed."),
    ("What's the difference between a cold and the flu? (reply in 中文 please)",
     "感冒一般症状较轻，主要是流鼻涕、打喷嚏和喉咙痛；流感起病急，常有高烧、全身酸痛和明显乏力，病程也更长。",
     "A cold is usually mild, mostly a runny nose, sneezing and a sore throat; the flu comes on suddenly, often with a high fever, body aches and real exhaustion, and it lasts longer."),
    ("I'm practicing my reading, so write your answer in simplified Chinese: how do I keep basil alive indoors?",
     "罗勒喜欢阳光，最好放在每天能晒到六小时以上太阳的窗台上。土表干了再浇水，别让盆底积水，并经常掐掉顶芽，让它长得更茂密。",
     "Basil loves sun, so keep it on a windowsill that gets at least six hours of light a day. Water when the top of the soil is dry, don't let the pot sit in water, and pinch off the tips often so it grows bushier."),
    ("If you can, respond in Chinese. Why does bread go stale faster in the fridge?",
     "冰箱的低温会加快面包里淀粉的回生，也就是淀粉重新结晶，所以面包在冷藏时比在室温下更快变硬变干。两三天内吃完的面包放室温，要放久一点就冷冻。",
     "The cold of a fridge speeds up starch retrogradation, the starch recrystallizing, so bread hardens and dries out faster there than at room temperature. Keep bread you'll finish in two or three days on the counter, and freeze it for longer."),
    ("explain recursion to a 10 year old but chinese only plz",
     "递归就像俄罗斯套娃：打开一个娃娃，里面还有一个更小的，你一直重复同一个动作，直到打开最小的那个为止。程序里的递归也是这样，一个函数不断调用自己去解决更小的问题，遇到最简单的情况就停下来。",
     "Recursion is like Russian nesting dolls: you open one doll and there's a smaller one inside, and you keep doing the same thing until you reach the tiniest one. In a program, a function keeps calling itself on a smaller problem until it hits the simplest case and stops."),
    ("My coworker from Shanghai doesn't read English well. Can you write her a short note saying the meeting moved to Thursday at 3pm? Needs to be in Chinese.",
     "你好！跟你说一声，会议改到周四下午三点了，地点不变。有问题随时找我，谢谢！",
     "Hi! Just letting you know the meeting has moved to Thursday at 3pm, same room. Let me know if you have any questions, thanks!"),
    ("how long should i boil an egg for a runny yolk? anwser in chinese",
     "水烧开后放入鸡蛋，煮六分钟左右蛋黄就是流心的。捞出来马上泡冷水，免得余温把蛋黄继续焖熟。",
     "Put the egg in once the water is boiling and cook it for about six minutes for a runny yolk. Then move it straight into cold water so the leftover heat doesn't keep cooking the yolk."),
    ("Quick q - what causes inflation? Chinese characters pls, not pinyin",
     "通货膨胀主要有三个原因：需求增长快于供给（需求拉动），原材料和工资等成本上涨（成本推动），以及货币供应量增长过快。",
     "Inflation has three main causes: demand growing faster than supply (demand-pull), rising costs such as raw materials and wages (cost-push), and the money supply growing too fast."),
    ("Tell me about the Great Barrier Reef, and make sure the whole reply is in Chinese because I'm forwarding it to my parents.",
     "大堡礁位于澳大利亚东北部海岸外，是世界上最大的珊瑚礁系统，绵延两千多公里，由数千个礁体和数百个岛屿组成。那里生活着大量鱼类、海龟和珊瑚，但近年来海水变暖引起的珊瑚白化正威胁着它。",
     "The Great Barrier Reef lies off the northeast coast of Australia and is the world's largest coral reef system, stretching over 2,000 kilometres with thousands of reefs and hundreds of islands. It is home to huge numbers of fish, turtles and corals, but coral bleaching caused by warming seas has been threatening it in recent years."),
]

# Chinese prompts that ask for the answer in English: (prompt, right answer in English, the same in Chinese)
CROSS_ZH: list[tuple[str, str, str]] = [
    ("麻烦用英文解释一下什么是复利，我要讲给外国同事听。",
     "Compound interest means you earn interest not only on the money you put in but also on the interest it has already earned, so your savings grow faster and faster over time.",
     "复利是指你不仅在本金上赚利息，还在已经赚到的利息上继续赚利息，所以存款会随着时间增长得越来越快。"),
    ("我在准备雅思口语，帮我用英语说说为什么喜欢自己的家乡，三句话左右就行。",
     "I love my hometown because it's a small, quiet place surrounded by hills and rice fields. People there know each other and always look out for their neighbours. Whenever I go back, my mum's cooking reminds me of my childhood.",
     "我喜欢我的家乡，因为那是一个被山丘和稻田环绕的安静小地方。那里的人彼此熟悉，总是互相照应。每次回去，妈妈做的饭都让我想起童年。"),
    ("猫为什么喜欢踩奶？（用英问回答）",
     "Cats knead because of a habit left over from kittenhood, when pressing on their mother's belly helped the milk flow. Adult cats do it when they feel relaxed and content, and it also leaves their scent from glands in their paws.",
     "猫踩奶是小时候留下的习惯，那时按压妈妈的肚子能让奶水流得更顺。成年猫在放松、满足的时候也会这样做，同时还能用爪子上的腺体留下自己的气味。"),
    ("能不能全程英文回复我？想问下信用卡只还最低还款额会有什么影响。",
     "Paying only the minimum keeps your account in good standing, but interest is charged on the rest of the balance, usually at a high rate. Over time this makes the debt much more expensive and it can take years to pay off.",
     "只还最低还款额可以让账户保持正常，不算逾期，但剩下的欠款会按较高的利率计息。时间一长，这笔债会贵很多，可能要好几年才能还清。"),
    ("帮我写一封简短的病假邮件给老板，他是美国人，所以要英文的。",
     "Hi Mark, I'm not feeling well today and would like to take a sick day. I'll check my email now and then in case anything urgent comes up. Thanks for understanding.",
     "马克你好，我今天身体不舒服，想请一天病假。我会不时看一下邮件，以防有急事。谢谢理解。"),
    ("不用中文，英文回答就好：光合作用的产物是什么？",
     "Photosynthesis produces glucose and oxygen. Plants use the energy of light to turn carbon dioxide and water into sugar, and release oxygen as a by-product.",
     "光合作用的产物是葡萄糖和氧气。植物利用光能把二氧化碳和水转化成糖，同时释放出氧气。"),
    ("用English给我讲讲黑洞是怎么形成的",
     "Most black holes form when a very massive star runs out of fuel and its core collapses under its own gravity. The collapse packs the matter into such a small space that not even light can escape from it.",
     "大多数黑洞形成于质量很大的恒星耗尽燃料之后，它的核心在自身引力作用下坍缩。坍缩把物质压缩到极小的空间里，连光都无法从中逃逸。"),
    ("孩子老是半夜醒，怎么办？回复请用英语，我老公看不懂中文。",
     "Keep a consistent bedtime routine and make sure the room is dark, quiet and not too warm. Avoid screens and big meals before bed, and when your child wakes up, keep things calm and brief so they learn to settle back to sleep on their own.",
     "保持固定的睡前程序，让房间黑暗、安静、不要太热。睡前避免看屏幕和吃太多，孩子醒来时保持平静、简短地安抚，让他学会自己重新入睡。"),
    ("如果可以的话用英文答：地铁和轻轨有什么区别？",
     "A metro is a high-capacity rail system that usually runs underground or on fully separated tracks, with long, frequent trains. Light rail uses lighter, shorter trains that often run at street level and may share space with road traffic.",
     "地铁是大运量的轨道交通，通常在地下或完全独立的线路上运行，列车长、班次密。轻轨使用更轻、更短的列车，常在地面运行，有时还和道路交通共用空间。"),
    ("简单介绍一下长城，英文版的哈",
     "The Great Wall of China is a series of fortifications built over many centuries to protect northern China from invasions. Its best-known sections date from the Ming dynasty, and all its walls together stretch for thousands of kilometres.",
     "长城是历经许多个世纪修建的一系列防御工事，用来保护中国北方免受入侵。最有名的几段建于明朝，所有城墙加起来绵延数千公里。"),
]

# English prompts asking for a translation into Chinese: (prompt, right answer with the Chinese, a failing model's
# English: the text left untranslated or paraphrased)
TRANSLATE_EN: list[tuple[str, str, str]] = [
    ("How do you say 'where is the nearest pharmacy' in Chinese?",
     "最近的药店在哪里？",
     "Where is the nearest pharmacy?"),
    ("Can you translate this into Chinese for my landlord: The kitchen sink has been leaking since Monday, could someone come and fix it this week?",
     "厨房的水槽从周一开始一直漏水，这周能不能安排人来修一下？",
     "The kitchen sink has been leaking since Monday, could someone come and fix it this week?"),
    ("what's 'I'm a vegetarian' in mandarin",
     "可以说“我吃素”，或者“我是素食者”。",
     "You can say \"I'm a vegetarian\" or \"I don't eat meat.\""),
    ("Please put this sentence into Chinese: Thank you for coming all this way to see us.",
     "谢谢你们大老远来看我们。",
     "Thank you for traveling such a long way to visit us."),
    ("Translate to simplified Chinese: Please keep your luggage with you at all times.",
     "请随时看管好您的行李。",
     "Please keep your luggage with you at all times."),
]

# Chinese prompts asking for a translation into English: (prompt, right answer in English, a failing model's
# Chinese: the text left as it was or paraphrased)
TRANSLATE_ZH: list[tuple[str, str, str]] = [
    ("“祝你一路顺风”用英语怎么说？",
     "You can say \"Have a safe trip!\" or \"Safe travels!\"",
     "祝你一路顺风！"),
    ("帮我把这句话翻译成英文：我们的航班因为天气原因延误了两个小时。",
     "Our flight was delayed by two hours because of the weather.",
     "我们的航班因为天气原因延误了两个小时。"),
    ("英文里“加油”一般怎么表达",
     "It depends on the situation: \"You can do it!\" or \"Hang in there!\" to encourage someone, and \"Come on!\" or \"Go, team!\" when cheering at a game.",
     "要看场合：鼓励别人时就是说“你能行”“坚持住”，看比赛时就是给队伍打气助威。"),
    ("把下面这段译成英语，要发给客户的：货物已经发出，预计下周三到达，请注意查收。",
     "The goods have been shipped and are expected to arrive next Wednesday. Please keep an eye out for the delivery.",
     "货物已经发出，预计下周三到达，请注意查收。"),
    ("请翻译：这家餐厅周一不营业。（翻成英文）",
     "This restaurant is closed on Mondays.",
     "这家餐厅每周一休息。"),
]

# English prompts with no language request: (prompt, right answer in English); the first 5 name a language
QUESTIONS_EN: list[tuple[str, str]] = [
    ("Is Japanese harder to learn than Korean for an English speaker?",
     "Most English speakers pick up Korean's alphabet, Hangul, faster than Japanese writing, which mixes two syllabaries with thousands of kanji. The grammar of the two is quite similar, so overall they're close, but reading Japanese usually takes longer to master."),
    ("In German, how do you know if a noun takes der, die or das?",
     "Mostly you memorize each noun together with its article, because German grammatical gender is largely arbitrary. Some endings help, though: nouns ending in -ung, -heit or -keit are feminine, and those ending in -chen or -lein are neuter."),
    ("What does a freelance Chinese to English translator usually charge per word?",
     "Rates vary a lot with experience and subject, but many freelance Chinese-to-English translators charge roughly 8 to 15 US cents per word. Specialized legal, medical or technical work usually costs more."),
    ("what are some classic Cantonese dim sum dishes I should order",
     "Good ones to start with are har gow (shrimp dumplings), siu mai (pork and shrimp dumplings), char siu bao (barbecue pork buns) and cheung fun (steamed rice noodle rolls), with egg tarts for dessert."),
    ("My son starts Mandarin classes at school next year. How can I support him if I don't speak it myself?",
     "Show interest in what he learns, set aside a short regular practice time, and use apps or audio so he hears native pronunciation. Watching Chinese cartoons together and praising his progress also helps keep him motivated."),
    ("How often should I change the oil in a 2015 Honda Civic?",
     "Honda recommends following the car's Maintenance Minder, which usually calls for an oil change every 5,000 to 7,500 miles with synthetic oil. If you mostly drive short trips or in extreme heat, change it more often."),
    ("Why do my eyes water when I cut onions?",
     "Cutting an onion breaks its cells and releases a sulfur compound that becomes an irritating gas, syn-propanethial-S-oxide. When it reaches your eyes, your tear glands make tears to wash it away."),
    ("any tips for falling asleep faster?",
     "Keep a regular sleep schedule, skip caffeine after midday, and put screens away for the last hour before bed. A cool, dark room and a short wind-down routine, like reading a few pages, also help."),
    ("What's a good way to get rid of fruit flies in the kitchen?",
     "Set out a small bowl of apple cider vinegar with a drop of dish soap; the flies are drawn in and drown. Also throw out overripe fruit, empty the trash often and rinse the drains, since that's where they breed."),
    ("Explain the offside rule in soccer simply.",
     "A player is offside if, when a teammate passes the ball to them, they are in the opponent's half and nearer the goal line than both the ball and the second-last defender. It is only penalized if the player then gets involved in the play."),
]

# Chinese prompts with no language request: (prompt, right answer in Chinese); the first 5 name a language
QUESTIONS_ZH: list[tuple[str, str]] = [
    ("学日语是先背五十音还是直接学会话？",
     "建议先花一两周把五十音背熟，因为后面的单词、语法和教材都离不开假名。打好这个基础再练会话，进步会快很多。"),
    ("韩语的敬语复杂吗？外国人学起来难不难？",
     "韩语的敬语确实比较复杂，动词词尾要根据对方的年龄、身份和场合变化，常见的就有好几种语体。不过初学者先掌握最常用的礼貌体，日常交流就够用了，其余的可以慢慢学。"),
    ("做英文翻译这行现在还有前途吗？会不会被AI取代？",
     "机器翻译确实替代了很多简单、重复的翻译工作，但法律、医学、文学和本地化这些需要专业判断和文化理解的领域，仍然很需要人工译者。以后译者会更多地做译后编辑和审校，懂行业知识的人更有竞争力。"),
    ("法国人早餐一般吃什么？",
     "法国人的早餐通常比较简单，常见的是羊角面包，或者法棍配黄油和果酱，再来一杯咖啡或热巧克力。早上很少吃热菜。"),
    ("为什么粤语有九个声调，普通话只有四个？",
     "粤语保留了更多古汉语的声调特点，包括以塞音收尾的入声，所以声调分得更细。普通话在演变过程中入声消失了，声调也发生了合并，最后只剩下四个。"),
    ("空气炸锅烤红薯要多久？",
     "中等大小的红薯洗净擦干后，用200度烤35到40分钟左右，中途翻一次面。用筷子能轻松插透就说明熟了。"),
    ("租房合同到期了，房东不退押金怎么办？",
     "先和房东沟通，要求对方说明扣押金的理由并拿出依据。协商不成的话，保留好合同、退房交接记录和聊天截图，可以向当地的消费者协会或住建部门投诉，必要时去法院起诉。"),
    ("高铁上可以带充电宝吗",
     "可以。高铁对充电宝的限制比飞机宽松，一般额定能量不超过100瓦时的都可以随身携带，但不能放在托运行李里。"),
    ("跑步的时候膝盖疼是什么原因",
     "常见原因有跑姿不对、一次跑得太多太快、鞋子缓震不够，或者大腿和臀部肌肉力量不足，让膝关节承受了过大的压力。建议先休息、减少跑量，加强股四头肌和臀部的力量训练，疼痛持续的话就去看医生。"),
    ("年终奖要交多少税？",
     "目前年终奖可以选择单独计税：用年终奖除以12得到的数去找对应的税率，再按税率计算并减去速算扣除数。也可以并入全年综合所得一起算，哪种方式交税少就选哪种。"),
]


def language_items() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import items_of

    return items_of("h6", {"cross-en": CROSS_EN, "cross-zh": CROSS_ZH, "translate-en": TRANSLATE_EN,
                           "translate-zh": TRANSLATE_ZH}, {"en": QUESTIONS_EN, "zh": QUESTIONS_ZH})


def language_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import written_rows_of

    return written_rows_of(language_items())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import write

    write(language_rows(), LANGUAGE_OUT)
