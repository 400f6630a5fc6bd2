# ruff: noqa: E501 - prompt and answer data, much of it Chinese (E501 counts each CJK character as two columns)
"""A fourth held-out set for the answer-language rules (language_mismatch, issue 26), written blind.

Written on 2026-12-08 by a helper session that had never seen the rules or the earlier data: it did not open
healthmon/quality/ (any file), tests/test_quality_*, tests/test_relevance_heldout.py, benchmarks/data/*.jsonl, the
prompt lists of heldout2_prompts and heldout3_prompts (only their docstrings' first lines and their builder
functions), relevance_*prompts.py, quality_eval_*.py, BENCHMARKS.md, nor the history of any of those. The prompts are
written as users write them, not as a parser might read them; the answers are what a careful model writes.

Requests (prompt, right answer, wrong-language answer with the same content): CROSS_EN asks in English for an answer
in Chinese, CROSS_ZH in Chinese for one in English; TRANSLATE_EN and TRANSLATE_ZH ask for a translation (or how a
phrase is said) in the other language, their wrong answers being what a failing model gives: the text left as it
was, or a paraphrase in the prompt's language. QUESTIONS_EN and QUESTIONS_ZH ask for no language (half of them name
one as their topic) and are answered in their own. No factual part.

Ids and rows come from heldout2_prompts.items_of (prefix "h4") and the same row builder as heldout3's: a good row for
every prompt, a wrong_language row for every request. `python benchmarks/heldout4_prompts.py` writes LANGUAGE_OUT.
Its overlap test (now tests/test_heldout_language_sets.py) checked that no prompt (and no longer answer) was in an
earlier set; it found no collision, so none was replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE_OUT = ROOT / "benchmarks" / "data" / "heldout4_language.jsonl"

# English prompts asking for the answer in Chinese: (prompt, answer in Chinese, the same answer in English)
CROSS_EN: list[tuple[str, str, str]] = [
    ("my landlord wants to raise the rent by 15% in the middle of the lease, is that even allowed? reply in chinese pls",
     "通常不行。固定期限的租约在租期内，房东一般不能单方面涨租，除非合同里写明了调价条款；具体还要看你所在地的租房法规。",
     "Usually not. During a fixed-term lease the landlord generally can't raise the rent on their own unless the contract has a rent-review clause; the details depend on your local tenancy law."),
    ("Could you explain in Mandarin why my sourdough starter smells like nail polish remover?",
     "这说明你的酵种饿了：酵母和细菌缺少食物时会产生乙酸乙酯之类的物质，闻起来就像洗甲水。多喂几次、缩短喂养间隔，气味通常几天内就会消失。",
     "It means your starter is hungry: when the yeast and bacteria run out of food they produce compounds like ethyl acetate, which smell like nail polish remover. Feed it more often and the smell usually goes away within a few days."),
    ("(Answer in 中文 please) How many hours of sleep does a 4 year old need?",
     "4岁的孩子每天一般需要10到13个小时的睡眠，午睡也算在内。",
     "A 4-year-old generally needs 10 to 13 hours of sleep a day, naps included."),
    ("I'm going to forward your answer to my grandma who only reads Chinese, so please write it in Chinese: is it safe to take ibuprofen together with blood pressure pills?",
     "需要谨慎。布洛芬可能会让血压升高，还会削弱一些降压药的效果，长期或大量服用也会加重肾脏负担。偶尔短期吃一两次一般问题不大，但最好先问问医生或药剂师。",
     "Be careful. Ibuprofen can raise blood pressure and weaken the effect of some blood pressure medicines, and taking it for long or in large doses puts extra strain on the kidneys. An occasional short course is usually fine, but it's best to ask a doctor or pharmacist first."),
    ("Give me three tips for keeping basil alive indoors. Respond in simplified Chinese.",
     "1. 放在光线充足的窗台上，每天至少晒6个小时太阳。2. 等土壤表面干了再浇水，避免积水烂根。3. 经常掐掉顶端和花苞，让它长得更茂密。",
     "1. Put it on a bright windowsill where it gets at least 6 hours of sun a day. 2. Water only when the top of the soil is dry, so the roots don't rot. 3. Pinch off the tips and flower buds often so it grows bushier."),
    ("hey can u tell me in chinese what the difference is between a credit card and a debit card",
     "借记卡是直接从你的银行账户里扣钱，花的是自己的存款；信用卡是银行先替你垫付，在还款日前还清就不用付利息，逾期就要付利息。",
     "A debit card takes the money straight from your bank account, so you spend your own savings; with a credit card the bank pays first, and if you repay by the due date there's no interest, otherwise you pay interest."),
    ("If you're able to, please write your answer in Chinese. Why does my laptop fan get so loud when I have lots of Chrome tabs open?",
     "每个标签页都会占用处理器和内存，标签开得多了，处理器负载升高、温度上升，风扇就会加速转动来散热。关掉不用的标签页或者打开浏览器的节能模式会有帮助。",
     "Every tab uses processor time and memory, so with many tabs open the processor works harder and heats up, and the fan spins faster to cool it. Closing tabs you don't need or turning on the browser's energy saver helps."),
    ("What should I pack for a 3-day hike in autumn? Answer in Chinese, my hiking group is mostly from Taiwan.",
     "建議準備：防水外套和保暖的中層衣物、頭燈、足夠的飲水和淨水片、高熱量的乾糧、急救包，以及一雙已經穿習慣的登山鞋。秋天早晚溫差大，睡袋要選適合低溫的。",
     "Pack a waterproof jacket and a warm mid layer, a headlamp, enough water and purification tablets, high-calorie snacks, a first-aid kit, and hiking boots you've already broken in. Autumn nights get cold, so bring a sleeping bag rated for low temperatures."),
    ("Chinese answer only: how long do I boil an egg for a runny yolk?",
     "水开后放入鸡蛋，煮6分钟左右，然后马上放进冷水里，蛋黄就是流心的。",
     "Put the egg in once the water is boiling, cook it for about 6 minutes, then move it straight into cold water and the yolk will be runny."),
    ("My boss asked me what 'burn rate' means for a startup. Can you explain it in Chiense so I really understand it?",
     "烧钱率是指一家初创公司每个月净花掉多少现金。比如公司账上有120万，每月净支出10万，那么在没有新收入或新融资的情况下，大约还能撑12个月。",
     "Burn rate is how much cash a startup loses each month. For example, if the company has 1.2 million in the bank and spends a net 100,000 a month, it can last about 12 months without new revenue or new funding."),
]

# Chinese prompts asking for the answer in English: (prompt, answer in English, the same answer in Chinese)
CROSS_ZH: list[tuple[str, str, str]] = [
    ("用英语解释一下什么是复利，我要讲给外国同事听",
     "Compound interest means you earn interest not only on the money you put in but also on the interest it has already earned, so the balance grows faster and faster over time.",
     "复利是指你不仅从投入的本金上获得利息，还能从已经获得的利息上再获得利息，所以余额会随着时间增长得越来越快。"),
    ("我家猫最近老是半夜叫，是怎么回事？请用英文回答。",
     "Night-time yowling is often boredom, hunger, or being in heat if she isn't spayed. In older cats it can also be a sign of thyroid problems or cognitive decline, so a vet check is worth it.",
     "猫半夜叫常常是因为无聊、饿了，或者没绝育的母猫在发情。老年猫半夜叫也可能是甲状腺问题或认知功能下降的信号，所以值得带去给兽医看看。"),
    ("帮我写一句拒绝加班的话，要英文的，语气客气一点",
     "Thanks for thinking of me, but I won't be able to stay late tonight. I'm happy to pick this up first thing tomorrow morning.",
     "谢谢你想到我，不过我今晚没办法留下来加班。明天一早我很乐意接着处理这件事。"),
    ("英文回答：冰箱冷藏室温度设多少度合适？",
     "Set the fridge compartment to about 3 to 5 degrees Celsius. That slows the growth of most bacteria without freezing your food.",
     "冷藏室设在3到5摄氏度左右比较合适，这样能减缓大多数细菌的生长，又不会把食物冻住。"),
    ("能不能用English给我讲讲为什么天空是蓝色的",
     "Sunlight is scattered by the molecules in the air, and blue light, with its shorter wavelength, is scattered much more than red, so blue reaches our eyes from every part of the sky.",
     "阳光会被空气中的分子散射，蓝光波长较短，被散射得比红光多得多，所以天空的每个方向都有蓝光进入我们的眼睛。"),
    ("我在准备雅思口语，下面这个问题请你全部用英文作答：你最喜欢的季节是什么，为什么？",
     "My favourite season is autumn. The air is cool and crisp, the leaves turn gold and red, and it's perfect weather for long walks after work.",
     "我最喜欢的季节是秋天。空气凉爽清新，树叶变成金色和红色，下班后散步的天气再合适不过了。"),
    ("请以英文回复。手机电池一直充到100%会不会伤电池？",
     "Keeping a phone at 100% for long periods does wear the battery a little faster, because lithium-ion cells age more at a high charge. Many phones offer an optimized charging setting that holds at 80% to reduce this.",
     "手机长时间保持在100%确实会让电池老化得快一点，因为锂离子电池在高电量下衰减更快。很多手机都有优化充电的设置，会停在80%来减轻这种损耗。"),
    ("孩子发烧38度5要不要马上去医院？回答用英语就行，我老公是美国人他要看",
     "A fever of 38.5 degrees on its own usually doesn't need the emergency room: keep the child drinking and give fever medicine if they're uncomfortable. See a doctor promptly if the child is under three months old, very drowsy, struggling to breathe, or the fever lasts more than three days.",
     "单纯烧到38.5度通常不用去急诊：让孩子多喝水，不舒服的话可以吃退烧药。如果孩子不满三个月、精神特别差、呼吸困难，或者发烧超过三天，就要尽快去看医生。"),
    ("给我推荐几本适合完全没有基础的人看的投资入门书，english please",
     "Good places to start are \"The Psychology of Money\" by Morgan Housel, \"A Random Walk Down Wall Street\" by Burton Malkiel, and, once you have the basics, \"The Intelligent Investor\" by Benjamin Graham.",
     "比较好的入门书有摩根·豪泽尔的《金钱心理学》、伯顿·马尔基尔的《漫步华尔街》，有了基础之后可以读本杰明·格雷厄姆的《聪明的投资者》。"),
    ("我下周去伦敦出差，想知道那边地铁怎么买票。你用英文说吧，顺便练练我的英语",
     "The easiest way is to tap a contactless bank card or your phone on the yellow reader at the gates; you pay the same fares as with an Oyster card, with a daily cap. Paper tickets from the machines cost much more.",
     "最简单的办法是在闸机的黄色读卡器上刷非接触式银行卡或手机，票价和牡蛎卡一样，而且每天有封顶。在售票机买纸质票要贵得多。"),
]

# English prompts asking for Chinese: (prompt, answer with the Chinese, what a failing model gives in English)
TRANSLATE_EN: list[tuple[str, str, str]] = [
    ("Translate into Chinese: \"The meeting has been moved to Thursday at 3 pm.\"",
     "会议已改到周四下午三点。",
     "The meeting has been moved to Thursday at 3 pm."),
    ("How do you say 'I'm allergic to peanuts' in Chinese? I need it for a trip to Shanghai.",
     "可以说：“我对花生过敏。”点菜时还可以加一句：“请不要放花生。”",
     "You can say: \"I'm allergic to peanuts.\" When ordering you can also add: \"Please don't put any peanuts in it.\""),
    ("can someone translate this to chinese for my wechat bio: Coffee first, everything else later",
     "先喝咖啡，其他的以后再说。",
     "Coffee first, everything else later."),
    ("Please put this sentence into Mandarin for a sign at our shop: Please take off your shoes before entering.",
     "进门前请脱鞋。",
     "Kindly remove your shoes before you come in."),
    ("What's the Chinese for 'happy new year, wishing you good health'? I'm writing a card for my in-laws.",
     "新年快乐，祝您身体健康！",
     "Happy New Year, and I wish you good health!"),
]

# Chinese prompts asking for English: (prompt, answer in English, what a failing model gives in Chinese)
TRANSLATE_ZH: list[tuple[str, str, str]] = [
    ("把这句话翻成英文：我们的快递明天上午才能送到，请您耐心等待。",
     "Your package won't arrive until tomorrow morning. Thank you for your patience.",
     "我们的快递明天上午才能送到，请您耐心等待。"),
    ("“下次一定”用英语怎么说比较自然？",
     "A natural way to say it is \"Maybe next time!\", or, if you really mean it, \"Next time for sure.\"",
     "比较自然的说法是“下回吧”，如果是真心的，可以说“下次肯定来”。"),
    ("帮我翻译成英文，发给房东的：卫生间的水龙头一直在滴水，麻烦您找人来修一下。",
     "The bathroom tap keeps dripping. Could you please send someone to fix it?",
     "卫生间的水龙头一直在滴水，麻烦您找人来修一下。"),
    ("英译：本店商品一经售出，概不退换",
     "All sales are final: no returns or exchanges.",
     "本店商品一经售出，概不退换。"),
    ("简历上“熟练使用办公软件”英文怎么写",
     "You can write \"Proficient in Microsoft Office (Word, Excel, PowerPoint)\".",
     "可以写成“熟练掌握各类办公软件，包括文字处理、电子表格和演示文稿”。"),
]

# English prompts with no language request, answered in English; the first five have a language as their topic
QUESTIONS_EN: list[tuple[str, str]] = [
    ("Is Korean harder for English speakers to learn than Japanese?",
     "They're rated about equally hard by the US Foreign Service Institute. Korean's alphabet is quicker to learn, while Japanese has kanji to master, and both have grammar that differs a lot from English."),
    ("Why do Spanish nouns have gender?",
     "Spanish inherited grammatical gender from Latin, where nouns were masculine, feminine or neuter. The neuter mostly merged into the masculine, so today every noun is one or the other, whatever it means."),
    ("What's the best way to keep up my French after finishing school?",
     "Use it a little every day: read news or novels in French, watch French shows with French subtitles, and find a conversation partner so you keep speaking, not just reading."),
    ("How much do freelance translators usually charge per word?",
     "It varies a lot with the language pair and the field, but many freelance translators charge roughly 8 to 20 US cents a word, with legal, medical and rarer languages at the higher end."),
    ("Do Arabic speakers from Morocco and Iraq understand each other?",
     "Only partly. Their everyday dialects differ a lot, Moroccan Darija especially, so they often switch to Modern Standard Arabic or to the Egyptian and Levantine forms they know from TV."),
    ("how do I get candle wax out of a carpet",
     "Let the wax harden (an ice cube speeds it up) and scrape off what you can, then lay a paper towel over the rest and press it with a warm iron so the towel soaks up the melted wax."),
    ("What's a good stretching routine before running?",
     "Before a run, do dynamic moves rather than long holds: leg swings, walking lunges, high knees and butt kicks for five to ten minutes. Save static stretches for afterwards."),
    ("Should I replace my car's timing belt at 100k miles even if it seems fine?",
     "Yes, if that's the interval in your owner's manual. A timing belt rarely gives any warning before it snaps, and on many engines a break bends the valves and costs far more than the replacement."),
    ("My banana bread always sinks in the middle, what am I doing wrong?",
     "Usually it's underbaked, has too much baking soda or powder, or is too wet from very large bananas. Test the center with a skewer before taking it out, and measure the leavening carefully."),
    ("Is it better to pay off my student loan early or invest the money instead?",
     "Compare the rates: if the loan's interest is higher than what you could reasonably expect to earn after tax, pay it off first; if it's low, say under 4%, investing usually comes out ahead once you have an emergency fund."),
]

# Chinese prompts with no language request, answered in Chinese; the first five have a language as their topic
QUESTIONS_ZH: list[tuple[str, str]] = [
    ("日语里的敬语到底难在哪里？",
     "难在它不只是换几个词：要根据对方的身份和亲疏关系，在尊敬语、谦让语和礼貌语之间选择，连动词本身都会换成完全不同的说法。"),
    ("粤语和普通话的声调有什么区别？",
     "普通话有四个声调加轻声，粤语一般认为有六到九个声调，还保留了以塞音收尾的入声，所以听起来更加抑扬顿挫。"),
    ("成年人零基础学德语，大概多久能到B1？",
     "如果每周坚持学十个小时左右，大多数人需要一年上下；上密集班的话，六到八个月也能达到B1。"),
    ("做英语同声传译需要什么条件？",
     "需要非常扎实的中英双语能力和广博的知识面，一般还要经过专业的口译训练，掌握边听边说、笔记和预判等技巧，并且能在高压下长时间保持专注。"),
    ("为什么很多人觉得法语发音难？",
     "法语有不少汉语里没有的音，比如小舌音和鼻化元音，而且单词结尾的字母常常不发音，连读规则又多，所以初学者不容易读准。"),
    ("微波炉加热鸡蛋为什么会爆炸？",
     "蛋里的水分被迅速加热变成蒸汽，蛋壳和蛋白膜把蒸汽封在里面，压力越积越大，最后就会炸开，有时甚至在拿出来之后才炸。"),
    ("租房合同到期不续签，押金多久能退？",
     "一般看合同约定，常见的是退房验收后七天到一个月内退还；如果房屋没有损坏、各项费用都结清了，房东不应无故扣押押金。"),
    ("最近总是凌晨三四点醒，醒了就睡不着，怎么办？",
     "可以先固定起床时间，睡前两小时不看手机，下午以后不喝咖啡和浓茶；醒来二十分钟还睡不着就起床做点安静的事。如果持续好几周，建议去看睡眠门诊。"),
    ("家里的绿萝叶子发黄是什么原因？",
     "最常见的是浇水太多导致烂根，其次是光照不足或长期没有施肥。先摸摸盆土，如果一直是湿的，就减少浇水，并把它放到有散射光的地方。"),
    ("第一次养金毛，需要提前准备哪些东西？",
     "基本要准备狗粮、食盆水盆、牵引绳和项圈、狗窝、尿垫和玩具，再找好附近的宠物医院，按时打疫苗和驱虫。"),
]


def language_items() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import items_of

    return items_of("h4", {"cross-en": CROSS_EN, "cross-zh": CROSS_ZH, "translate-en": TRANSLATE_EN,
                           "translate-zh": TRANSLATE_ZH}, {"en": QUESTIONS_EN, "zh": QUESTIONS_ZH})


def language_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import written_rows_of

    return written_rows_of(language_items())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import write

    write(language_rows(), LANGUAGE_OUT)
