# ruff: noqa: E501 - prompt and answer data, much of it Chinese (E501 counts each CJK character as two columns)
"""A fifth held-out set for the answer-language rules (language_mismatch, issue 26), written blind.

Written on 2026-12-08 by a helper session (Claude) for the measurement after the rules' latest change. Before
writing, the writer opened none of healthmon/quality/, tests/test_quality_*, tests/test_relevance_heldout.py,
benchmarks/data/*.jsonl, benchmarks/relevance_*prompts.py, benchmarks/quality_eval_*.py or BENCHMARKS.md, nor
the prompt lists of the second, third and fourth held-out sets (only heldout2's items_of/write and heldout3's
language_items/language_rows, and tests/test_heldout2.py and test_heldout3.py, which hold no prompts).

One slip, disclosed: after every prompt and answer below had been drafted, and before they went into this file, a
`ruff format --check` run on benchmarks/heldout3_prompts.py printed its prompt lists as a reformatting diff.
Nothing was rewritten after that but one prompt the overlap test (now tests/test_heldout_language_sets.py) found
in an earlier set: a Chinese how-to-say-it-in-English prompt, replaced by the one about the water heater. Several
share a topic (not a prompt) with that third set: sleep tips, the Great Wall, photosynthesis, a note for a grandmother, inflation,
pandas and bamboo, a meeting at 3 pm, a peanut allergy, a pharmacy nearby, cats kneading, Cantonese and Mandarin,
Mandarin tones, Japanese and Korean, English grammar. The measurer may want to read those apart.

The prompts are what users write, not what a parser reads: requests for the other language before, after and
inside the question, as their own sentence, in a parenthesis, as a condition or a reason, with typos; questions
with no request, half of which name a language as their topic. Answers are what a careful model writes.

Built like the third set: language_items() through heldout2_prompts.items_of (ids "h5-..."), language_rows()
a good row for every prompt and a wrong_language row for every request; no factual part. Run
`python benchmarks/heldout5_prompts.py` to write benchmarks/data/heldout5_language.jsonl.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE_OUT = ROOT / "benchmarks" / "data" / "heldout5_language.jsonl"

# English prompts asking for the answer in Chinese: (prompt, answer in Chinese, the same answer in English)
CROSS_EN: list[tuple[str, str, str]] = [
    (
        "pls explain what a mortgage escrow account is, in chinese thx",
        "抵押贷款托管账户是贷款机构替你管理的一个账户：你每月还款时多付一部分钱存进去，用来支付房产税和房屋保险，到期时由贷款机构代为缴纳。",
        "A mortgage escrow account is an account your lender manages for you: part of each monthly payment goes into it, and the lender uses it to pay your property taxes and homeowners insurance when they are due.",
    ),
    (
        "Answer in Mandarin: why do cats knead blankets with their paws?",
        "猫踩毯子多半是小时候吃奶时留下的习惯，小猫会用爪子按压母猫的肚子促进出奶。长大后它们在放松、满足的时候还会这样做，同时也会通过爪垫上的腺体留下自己的气味。",
        "Cats knead blankets mostly out of a habit from kittenhood, when they pressed on their mother's belly to get milk flowing. Adult cats still do it when they feel relaxed and content, and the glands in their paw pads leave their scent behind.",
    ),
    (
        "My grandma only reads Chinese — can you write her a short note in Chinese saying family dinner has moved to Saturday at 6pm?",
        "奶奶好！这周的家庭聚餐改到星期六晚上六点了，到时候见，爱您！",
        "Hi Grandma! This week's family dinner has moved to Saturday at 6pm. See you then, love you!",
    ),
    (
        "How long should I boil an egg for a runny yolk? (reply in 中文 please)",
        "想要溏心蛋，水开后把鸡蛋放进去煮大约6到7分钟，然后立刻放进冷水里冷却，这样蛋黄会保持流心。",
        "For a runny yolk, put the eggs into boiling water for about 6 to 7 minutes, then move them straight into cold water so the yolk stays soft.",
    ),
    (
        "If you can, answer this in Chinese: what does a VPN actually do?",
        "VPN（虚拟专用网络）会在你的设备和一台远程服务器之间建立一条加密通道，你的网络流量先经过这台服务器再发出去，这样别人很难看到你在访问什么，网站看到的也是服务器的IP地址。",
        "A VPN (virtual private network) sets up an encrypted tunnel between your device and a remote server, and your traffic goes out through that server, so others can hardly see what you are visiting and websites see the server's IP address instead of yours.",
    ),
    (
        "whats the capital of australia, respond in chinese",
        "澳大利亚的首都是堪培拉，不是悉尼。",
        "The capital of Australia is Canberra, not Sydney.",
    ),
    (
        "I'm practicing my reading. Tell me about the Great Wall but write everything in simplified Chinese.",
        "长城是中国古代为了抵御北方游牧民族而修建的防御工程，东起山海关，西到嘉峪关，绵延数千公里。现在看到的大部分城墙是明朝时修建的。",
        "The Great Wall was built in ancient China to defend against nomadic peoples from the north, running thousands of kilometres from Shanhaiguan in the east to Jiayuguan in the west. Most of the wall you see today dates from the Ming dynasty.",
    ),
    (
        "Explain compound interest to me. Respond only in Chinese.",
        "复利就是利息也会产生利息：每一期的利息加进本金，下一期按新的本金计算利息，所以时间越长，钱增长得越快。",
        "Compound interest means interest earns interest too: each period's interest is added to the principal, and the next period's interest is worked out on the new total, so the longer you wait, the faster the money grows.",
    ),
    (
        "Can u giv me 3 tips for sleeping better, in chinease?",
        "1. 每天固定时间睡觉和起床。2. 睡前一小时不看手机。3. 下午以后少喝咖啡和浓茶。",
        "1. Go to bed and get up at the same time every day. 2. Put your phone away an hour before bed. 3. Avoid coffee and strong tea after midday.",
    ),
    (
        "Quick question for my Chinese class homework - what's photosynthesis? Need the answer in Chinese.",
        "光合作用是绿色植物利用阳光的能量，把二氧化碳和水转化成葡萄糖，并释放出氧气的过程。",
        "Photosynthesis is the process by which green plants use energy from sunlight to turn carbon dioxide and water into glucose, releasing oxygen.",
    ),
]

# Chinese prompts asking for the answer in English: (prompt, answer in English, the same answer in Chinese)
CROSS_ZH: list[tuple[str, str, str]] = [
    (
        "请用英文回答：为什么煮饺子的时候要加几次冷水？",
        "Adding cold water a few times keeps the water from boiling over and lets the filling cook through before the wrappers split. Each time it returns to a boil, the dumplings get a bit more time to cook evenly.",
        "加几次冷水可以防止水溢出来，也能让馅在皮煮破之前熟透。每次水重新烧开，饺子都能多煮一会儿，受热更均匀。",
    ),
    (
        "帮我解释一下什么是通货膨胀，用英语说。",
        "Inflation is the general rise in prices over time, which means the same amount of money buys less than it used to. A little inflation is normal in a growing economy, but high inflation erodes savings quickly.",
        "通货膨胀是指物价随着时间普遍上涨，同样的钱能买到的东西比以前少了。经济增长时有一点通胀是正常的，但通胀太高会很快侵蚀储蓄。",
    ),
    (
        "我下周要去伦敦面试，能不能用英文告诉我怎么做一个简短的自我介绍？",
        "Sure. You could say: \"Hi, I'm Li Wei. I have five years of experience in data analysis, most recently at a logistics company, and I'm excited about this role because it combines analytics with product work.\" Keep it under a minute and end with why you want this job.",
        "当然可以。你可以说：“你好，我叫李伟，有五年数据分析经验，最近在一家物流公司工作。我对这个职位很感兴趣，因为它结合了数据分析和产品工作。”控制在一分钟以内，最后说明你为什么想要这份工作。",
    ),
    (
        "英文回答下：Python里的列表和元组有什么区别？",
        "A list is mutable, so you can add, remove or change its items, while a tuple is immutable once created. Tuples are often used for fixed groups of values and can be used as dictionary keys.",
        "列表是可变的，可以增加、删除或修改元素；元组创建后就不能再改变。元组常用来存放固定的一组值，也可以作为字典的键。",
    ),
    (
        "麻烦用英语回复，我在练习阅读：熊猫为什么吃竹子？",
        "Giant pandas evolved from meat-eating ancestors but came to rely on bamboo because it was plentiful and few other animals competed for it. They have to eat 12 to 38 kilograms of it a day because their gut digests it poorly.",
        "大熊猫的祖先是吃肉的，但后来开始依赖竹子，因为竹子数量多，跟它们抢的动物也少。它们的肠胃消化竹子的效率很低，所以每天要吃12到38公斤。",
    ),
    (
        "能不能全部用英文写？给我的外国同事写一条消息，说明天的会议改到下午三点。",
        "Hi all, just a heads-up: tomorrow's meeting has been moved to 3 pm. Same room and link as before. See you then!",
        "大家好，提醒一下：明天的会议改到下午三点了，会议室和链接都不变。到时见！",
    ),
    (
        "光年到底是时间单位还是距离单位？用English回答，谢谢。",
        "A light-year is a unit of distance, not time: it is how far light travels in one year, about 9.46 trillion kilometres.",
        "光年是距离单位，不是时间单位：它是光在一年里走过的距离，大约9.46万亿公里。",
    ),
    (
        "如果可以的话请用英语作答。怎样判断西瓜熟没熟？",
        "Tap it and listen for a deep, hollow sound, and look for a creamy yellow patch where it sat on the ground. A dry, brown stem and a dull rather than shiny rind are also good signs.",
        "敲一敲，声音低沉、发空的比较熟；再看看贴地那一面有没有奶黄色的斑。瓜蒂干枯发褐、瓜皮不太反光也是熟了的标志。",
    ),
    (
        "老师要求我们用英文交作业，帮我写两句话介绍一下春节。",
        "The Spring Festival, or Chinese New Year, is the most important holiday in China and falls between late January and mid-February. Families gather for a reunion dinner, set off fireworks and give children red envelopes with money.",
        "春节，也就是农历新年，是中国最重要的节日，一般在一月下旬到二月中旬之间。家人会团聚吃年夜饭、放鞭炮，还会给孩子发红包。",
    ),
    (
        "用英语给我讲讲为什么要定期换牙刷 （我想顺便学点单词）",
        "Toothbrush bristles fray and bend after about three months, so they clean less well, and bacteria build up on an old brush. Dentists also suggest replacing it after you have been ill.",
        "牙刷用了大约三个月后刷毛会散开变弯，清洁效果变差，旧牙刷上也会积累细菌。牙医还建议生病痊愈后换一把新的。",
    ),
]

# English prompts asking for a translation into Chinese: (prompt, the Chinese, what a failing model gives in English)
TRANSLATE_EN: list[tuple[str, str, str]] = [
    (
        "Translate into Chinese: The store closes early on Sundays.",
        "商店星期天关门比较早。",
        "The store closes early on Sundays.",
    ),
    (
        "How do you say 'I'm allergic to peanuts' in Chinese?",
        "中文可以说：“我对花生过敏。”去餐厅点菜时说这句话很有用。",
        "You can say that you have a peanut allergy.",
    ),
    (
        "can you put this in chinese for me: 'Please leave the package at the front door.'",
        "请把包裹放在前门。",
        "Please leave the package at the front door.",
    ),
    (
        "What's the Chinese for 'see you tomorrow'?",
        "中文是“明天见”。",
        'It\'s "see you tomorrow" — a casual way to say goodbye until the next day.',
    ),
    (
        "Translate this sentence to Mandarin Chinese: My flight was delayed by two hours because of the storm.",
        "因为暴风雨，我的航班延误了两个小时。",
        "Because of the storm, my flight was two hours late.",
    ),
]

# Chinese prompts asking for a translation into English: (prompt, the English, what a failing model gives in Chinese)
TRANSLATE_ZH: list[tuple[str, str, str]] = [
    (
        "把这句话翻译成英文：这个周末我们去爬山吧。",
        "Let's go hiking this weekend.",
        "这个周末我们去爬山吧。",
    ),
    (
        "我想跟房东说“热水器坏了，能派人来修一下吗”，用英文怎么说？",
        'You could say: "The water heater is broken. Could you send someone to fix it?"',
        "你可以说：“热水器坏了，能派人来修一下吗？”",
    ),
    (
        "帮我翻成英文：请问附近有没有药店？",
        "Excuse me, is there a pharmacy nearby?",
        "请问这附近有药店吗？",
    ),
    (
        "英文里“堵车”怎么讲？",
        'You can say "traffic jam", for example: "Sorry I\'m late, I got stuck in a traffic jam."',
        "“堵车”就是路上车太多，车辆走不动的意思。",
    ),
    (
        "请将下面这段话译成英语：感谢您在百忙之中抽出时间参加我们的活动。",
        "Thank you for taking time out of your busy schedule to attend our event.",
        "非常感谢您百忙之中抽空来参加我们的活动。",
    ),
]

# (prompt, right answer in the prompt's language); no language is asked for. The first five name a language as
# their topic (learning one, its grammar, a people's food, translation as a job, its tones).
QUESTIONS_EN: list[tuple[str, str]] = [
    (
        "Is it harder for English speakers to learn Japanese or Korean?",
        "Both are hard, but many learners find Korean a little easier to start because its alphabet, Hangul, can be learned in a few days. Japanese needs kanji on top of two syllabaries, which takes years to read fluently.",
    ),
    (
        "Why does Spanish have two verbs for 'to be'?",
        "Spanish uses ser for lasting qualities such as identity, origin or profession, and estar for states and locations that can change. Both come from different Latin verbs, and the split survived while English merged its equivalents into one.",
    ),
    (
        "What do Chinese families usually eat on Lunar New Year's Eve?",
        "Dumplings are a must in the north, and fish is served almost everywhere because its name sounds like the word for surplus. Many families also have a hotpot or a big spread of meat and vegetable dishes.",
    ),
    (
        "How much does a freelance Chinese to English translator typically charge?",
        "Rates vary a lot, but many freelancers charge roughly 8 to 15 US cents per English word, with legal, medical or patent work at the top of that range. Experienced translators with a niche can charge more.",
    ),
    (
        "Is Mandarin a tonal language, and how many tones does it have?",
        "Yes. Standard Mandarin has four main tones plus a neutral tone, and the tone can change a word's meaning, as with mā (mother) and mǎ (horse).",
    ),
    (
        "What's a good way to keep basil fresh after buying it?",
        "Trim the stems and stand the basil in a glass of water on the counter, like cut flowers, with a loose bag over the top. Keep it out of the fridge, since cold turns the leaves black.",
    ),
    (
        "my laptop fan is super loud all of a sudden, what could cause that?",
        "Usually the processor is working hard, for example because of a background update or a browser tab running scripts, or the vents and fan are clogged with dust. Check Task Manager or Activity Monitor for a busy process, and clean the vents if it stays loud.",
    ),
    (
        "How many hours of sleep does a 10-year-old need?",
        "Children aged 6 to 12 need about 9 to 12 hours of sleep a night, so for most 10-year-olds a bedtime around 8:30 to 9 pm works well.",
    ),
    (
        "Can you recommend a way to start running if I've never exercised?",
        "Start with a walk-run plan: alternate one minute of easy jogging with two minutes of walking for 20 to 30 minutes, three times a week. Add a little more running each week, and keep the pace slow enough that you could hold a conversation.",
    ),
    (
        "why do onions make me cry but garlic doesn't?",
        "Cutting an onion releases an enzyme that turns its sulfur compounds into a gas that irritates your eyes, so your tear glands flush it out. Garlic has different sulfur compounds and lacks that enzyme, so chopping it makes a strong smell but no tears.",
    ),
]

# The first five name a language as their topic (Japanese kana, English tenses, the English's tea, translation
# as a job, Cantonese and Mandarin).
QUESTIONS_ZH: list[tuple[str, str]] = [
    (
        "学日语的话，五十音图大概要多久才能背熟？",
        "一般每天花半小时，一到两周就能认全平假名和片假名，但要做到看到就能反应过来，还需要在阅读中多练一两个月。",
    ),
    (
        "英语里的现在完成时到底什么时候用？",
        "现在完成时用来表示过去发生的动作和现在有联系，比如经历、刚完成的事，或者从过去持续到现在的状态。如果句子里有明确的过去时间，比如yesterday，就要用一般过去时。",
    ),
    (
        "英国人真的每天都喝下午茶吗？",
        "并不是。现在大多数英国人只是白天随手喝几杯加奶的红茶，正式的下午茶配三明治和司康饼更多是在周末、度假或者招待客人时才有。",
    ),
    (
        "做中英文翻译这一行，现在会被AI取代吗？",
        "简单的资料翻译确实已经大量交给机器了，但合同、文学、营销文案和口译仍然需要人来把关。更多译者正在转向审校机器译文，所以懂专业领域的译者依然有需求。",
    ),
    (
        "粤语和普通话的区别大吗？",
        "区别很大。粤语有六到九个声调，保留了很多古汉语的发音和词汇，口语用词也和普通话不同，所以只会普通话的人一般听不懂粤语。",
    ),
    (
        "冬天家里的绿萝叶子发黄怎么办？",
        "冬天绿萝叶子发黄，多半是浇水太多或者温度太低。把它放到温暖明亮、不被冷风直吹的地方，等土表面干了再浇水，再剪掉发黄的叶子就行。",
    ),
    (
        "第一次去医院献血需要注意什么？",
        "献血前一天要睡好，别喝酒，当天吃一顿清淡的饭，别空腹去，记得带身份证。献完后按压针眼十分钟左右，当天不要做剧烈运动。",
    ),
    (
        "为什么手机充电的时候会发烫？",
        "充电时电池内部发生化学反应，充电电路转换电压也会损耗一部分能量变成热量。边充边玩游戏或开着导航时发热更明显，温度太高时最好停下来让它凉一凉。",
    ),
    (
        "租房合同里押一付三是什么意思？",
        "“押一付三”是说签合同时先交一个月房租作为押金，再一次性付三个月房租，以后每三个月交一次。退租时如果房子没有损坏，押金会退还。",
    ),
    (
        "孩子三岁了还不太会说话，需要担心吗？",
        "三岁的孩子一般能说简单的短句，如果只会说几个词或者听不太懂别人说话，建议带去儿科或儿童保健科做一次语言发育评估。越早发现、越早干预，效果越好。",
    ),
]


def language_items() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import items_of

    return items_of(
        "h5",
        {"cross-en": CROSS_EN, "cross-zh": CROSS_ZH, "translate-en": TRANSLATE_EN, "translate-zh": TRANSLATE_ZH},
        {"en": QUESTIONS_EN, "zh": QUESTIONS_ZH},
    )


def language_rows() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import written_rows_of

    return written_rows_of(language_items())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from heldout2_prompts import write

    write(language_rows(), LANGUAGE_OUT)
