"""A held-out set for issue 26's flags: prompts and right answers written on 2026-12-07, after off_topic
(healthmon/quality/relevance.py) and language_mismatch (healthmon/quality/language.py) were fixed, and never
used to set a line or a rule.

Same groups and shapes as relevance_eval_prompts (cross_language, translation, short, each in English and
Chinese), on new topics and with the language request phrased as users write it: a command or a question,
before, inside or after the question, lowercase, with typos, the language named in the other script ("用English
回答"), or as a variety ("Mandarin", "simplified chinese"). Plus `questions`: plain questions with no language
request, which bench_relevance otherwise takes from quality_eval.jsonl. None of these prompts is in
relevance_eval.jsonl or quality_eval.jsonl (tests/test_relevance_heldout.py checks it).

Every answer is what a careful model would write, in the language asked for; WRONG_LANGUAGE holds, for every
cross-language prompt, a right answer in the prompt's own language instead (language_mismatch, not off-topic).
Built into benchmarks/data/relevance_heldout.jsonl by `make_relevance_eval.py --heldout`.
"""

from __future__ import annotations

CROSS_LANGUAGE = {
    "en": [
        ("Respond only in Chinese. What causes the seasons on Earth?",
         "地球的四季是由地轴倾斜造成的。地球绕太阳公转时，地轴始终倾斜约23.5度，所以一年中南北半球轮流更直接地"
         "接受阳光：阳光直射、白天变长的半球是夏天，另一半球就是冬天。"),
        ("Could you answer this in Mandarin? Why do cats purr?",
         "猫咪发出呼噜声，通常是因为感到放松和满足，比如被抚摸的时候。不过猫在紧张、受伤或生病时也会呼噜，"
         "科学家认为这种低频振动可能有助于安抚自己，甚至促进骨骼和伤口的恢复。"),
        ("answer the following in simplified chinese: how does a refrigerator keep food cold?",
         "冰箱靠制冷剂循环来降温。制冷剂在冰箱内部的管道里蒸发，吸走箱内的热量；压缩机再把它压缩，送到冰箱背后"
         "的散热管，把热量释放到房间里。这样不断循环，箱内就一直保持低温。"),
        ("answr in chinese pls - what is a black hole?",
         "黑洞是宇宙中引力极强的天体，连光都无法从中逃脱。它通常是大质量恒星在生命末期坍缩形成的，"
         "物质被压缩到极小的空间里，所以我们无法直接看到黑洞，只能通过它对周围物质的影响来发现它。"),
        ("What was the Silk Road? Please respond in Chinese.",
         "丝绸之路是古代连接中国和中亚、西亚乃至欧洲的贸易通道，始于西汉张骞出使西域。商人们沿着这条路运送丝绸、"
         "瓷器、茶叶和香料，佛教等宗教和文化也随之传播。"),
        ("Explain, in Chinese, how a rainbow forms.",
         "雨后空气中悬浮着许多小水滴。阳光射入水滴时发生折射和反射，不同颜色的光折射角度不同，于是白光被分解成"
         "红、橙、黄、绿、蓝、靛、紫七种颜色，形成彩虹。背对太阳才能看到它。"),
        ("Write a short paragraph about coffee - in Chinese, please.",
         "咖啡是用烘焙过的咖啡豆研磨后冲泡而成的饮料，起源于埃塞俄比亚，如今风靡全世界。它含有咖啡因，能让人"
         "提神醒脑，很多人每天早上都要来一杯。常见的喝法有美式、拿铁和卡布奇诺。"),
        ("I'm learning Chinese, so please give your answer in Chinese: why does the sea have tides?",
         "潮汐主要是月球引力造成的。月球对地球不同位置的吸引力大小不同，使海水朝向月球和背向月球的两侧隆起，"
         "随着地球自转，海边就会出现一天两次的涨潮和落潮。太阳的引力也有影响，但比月球小。"),
        ("Tell me what a passport is used for, and answer in Chinese characters.",
         "护照是国家发给本国公民的身份证件，用于出入境和在国外证明自己的身份和国籍。出国旅行、办理签证、"
         "在国外住酒店或遇到紧急情况时，通常都需要出示护照。"),
        ("用中文回答: what is the Olympic Games?",
         "奥运会是世界上规模最大的综合性体育赛事，每四年举办一次，分为夏季奥运会和冬季奥运会。现代奥运会始于"
         "1896年的希腊雅典，来自世界各地的运动员在田径、游泳、体操等项目上同场竞技。"),
    ],
    "zh": [
        ("请用英语作答：为什么海水是咸的？",
         "Seawater is salty because rivers carry small amounts of dissolved minerals, mostly sodium and chloride, "
         "from rocks into the ocean. When seawater evaporates, the water leaves but the salt stays behind, so over "
         "millions of years the salt has built up."),
        ("用英文回答我：恐龙是怎么灭绝的？",
         "Most scientists think the dinosaurs died out about 66 million years ago after a huge asteroid struck "
         "what is now Mexico. The impact threw dust and soot into the sky, blocking sunlight and cooling the "
         "climate, so plants died and the food chain collapsed. Massive volcanic eruptions in India probably "
         "made things worse."),
        ("用English回答：什么是DNA？",
         "DNA, or deoxyribonucleic acid, is the molecule that carries the genetic instructions of living things. "
         "It is shaped like a twisted ladder, the double helix, and the order of its four bases (A, T, C and G) "
         "encodes the information cells use to build proteins."),
        ("简单介绍一下孔子，请用英文。",
         "Confucius (551-479 BC) was a Chinese philosopher and teacher from the state of Lu. He taught that "
         "people should cultivate virtue, respect their parents and rulers, and govern through moral example. "
         "His sayings, collected in the Analects, shaped Chinese culture for more than two thousand years."),
        ("你能用英语解释一下什么是通货膨胀吗？",
         "Inflation is a general rise in prices over time, which means each unit of money buys less than before. "
         "If inflation is 5% a year, something that costs 100 yuan today will cost about 105 yuan next year. "
         "It is usually measured with a consumer price index."),
        ("麻烦用英文写几句话介绍一下兵马俑。",
         "The Terracotta Army is a collection of thousands of life-size clay soldiers buried near the tomb of "
         "Qin Shi Huang, China's first emperor, in Xi'an. Farmers discovered it in 1974 while digging a well. "
         "Each warrior has a different face, and it is now one of the most famous archaeological sites in the "
         "world."),
        ("以英文回复：月饼是什么？",
         "A mooncake is a round Chinese pastry eaten during the Mid-Autumn Festival. It usually has a thin crust "
         "and a rich filling such as lotus seed paste, red bean paste or salted egg yolk, and families share "
         "them while admiring the full moon."),
        ("为什么会打雷？回答用英语就行。",
         "Thunder is the sound made by lightning. A lightning bolt heats the air around it to tens of thousands "
         "of degrees in a fraction of a second, so the air expands explosively and creates a shock wave that we "
         "hear as thunder."),
        ("请你用英语给我讲讲京剧。",
         "Peking Opera is a traditional Chinese theatre form that took shape in Beijing about two hundred years "
         "ago. It combines singing, speech, acrobatics and martial arts, and performers wear colourful costumes "
         "and painted faces whose colours show a character's personality."),
        ("飞机为什么能飞起来？请全部用英文回答。",
         "A plane flies because its wings produce lift. The wings are shaped and tilted so that air flowing over "
         "them is pushed downward, and the air pressure above the wing becomes lower than below it. The engines "
         "push the plane forward fast enough for this lift to become greater than the plane's weight."),
    ],
}
# For every cross-language prompt, in order: a right answer in the prompt's own language where the other was
# asked for. On topic, so language_mismatch and not off_topic.
WRONG_LANGUAGE = {
    "en": [
        "The seasons happen because Earth's axis is tilted about 23.5 degrees. As Earth orbits the Sun, each "
        "hemisphere takes turns leaning toward the Sun and getting more direct sunlight and longer days.",
        "Cats usually purr when they are relaxed and content, for example while being stroked, but they also "
        "purr when stressed or hurt, which may help soothe them.",
        "A refrigerator pumps a refrigerant through coils: it evaporates inside, absorbing heat from the food, "
        "and the compressor sends it to the coils at the back, where the heat is released into the room.",
        "A black hole is a region of space where gravity is so strong that nothing, not even light, can escape. "
        "Most form when a massive star collapses at the end of its life.",
        "The Silk Road was a network of ancient trade routes linking China with Central Asia, the Middle East and "
        "Europe, along which silk, spices, ideas and religions travelled.",
        "A rainbow forms when sunlight enters raindrops, bends and reflects inside them, and splits into its "
        "colours, from red to violet. You see it with the Sun behind you.",
        "Coffee is a drink brewed from roasted, ground coffee beans. It originated in Ethiopia, contains caffeine, "
        "and is enjoyed around the world as espresso, latte or plain black coffee.",
        "Tides are caused mainly by the Moon's gravity, which pulls the oceans into two bulges; as Earth rotates, "
        "coasts pass through them and get two high tides a day.",
        "A passport is an official document issued by your country that proves your identity and nationality "
        "and lets you leave and enter countries.",
        "The Olympic Games are the world's biggest international multi-sport event, held every four years, with "
        "separate Summer and Winter Games. The modern Games began in Athens in 1896.",
    ],
    "zh": [
        "海水之所以咸，是因为河流把岩石中溶解的盐分带进大海，海水蒸发时水分离开了，盐却留了下来，日积月累就变咸了。",
        "大多数科学家认为，约6600万年前一颗小行星撞击地球，扬起的尘埃遮住阳光，气候骤变，食物链崩溃，恐龙因此灭绝。",
        "DNA即脱氧核糖核酸，是携带生物遗传信息的分子，呈双螺旋结构，四种碱基的排列顺序决定了遗传信息。",
        "孔子是春秋时期鲁国的思想家和教育家，儒家学派的创始人，主张仁和礼，他的言行被记录在《论语》中。",
        "通货膨胀是指物价普遍持续上涨，同样的钱能买到的东西变少了，通常用居民消费价格指数来衡量。",
        "兵马俑位于西安，是秦始皇陵的陪葬坑，1974年被农民打井时发现，数千个陶俑真人大小、神态各异。",
        "月饼是中秋节的传统点心，圆圆的象征团圆，常见的馅料有莲蓉、豆沙、五仁和咸蛋黄。",
        "打雷是闪电造成的。闪电瞬间把周围空气加热到极高的温度，空气急剧膨胀，产生的冲击波就是我们听到的雷声。",
        "京剧是中国的传统戏曲，形成于约两百年前的北京，融合唱、念、做、打，演员画着脸谱，不同颜色代表不同性格。",
        "飞机能飞是因为机翼产生升力：机翼的形状和角度让上方气压低于下方，发动机推动飞机高速前进，升力大于重力时就飞起来了。",
    ],
}
TRANSLATION = {
    "en": [
        ("Can you translate this into Chinese for me? The meeting has been moved to Friday.",
         "会议改到星期五了。"),
        ("translate the following into simplified chinese: I lost my keys this morning.",
         "我今天早上把钥匙弄丢了。"),
        ("What's the Chinese translation of 'The bus is late again'?", "公交车又晚点了。"),
        ("Put this into Chinese: Please remember to water the plants.", "请记得给植物浇水。"),
        ("Chinese translation please: Our flight was cancelled because of the storm.",
         "因为暴风雨，我们的航班被取消了。"),
        ("Please translate from English to Chinese: She has been learning the piano for three years.",
         "她学钢琴已经三年了。"),
        ("trnaslate into chinese: I would like a cup of hot chocolate.", "我想要一杯热巧克力。"),
        ("How do I say 'happy birthday' in Chinese?", "生日快乐！"),
        ("Translate to Mandarin: Don't forget to bring your umbrella.", "别忘了带伞。"),
        ("Could you render this sentence in Chinese? The museum is closed on Mondays.", "博物馆星期一闭馆。"),
    ],
    "zh": [
        ("帮我把这句话翻成英语：这个周末我们去爬山吧。", "Let's go hiking this weekend."),
        ("中译英：我的手机没电了。", "My phone is out of battery."),
        ("这句话用英语怎么说：我迷路了。", "I'm lost."),
        ("请将以下中文译成英语：明天可能会下雨。", "It might rain tomorrow."),
        ("把这段话翻译成English：他昨天晚上加班到十点。", "He worked overtime until ten o'clock last night."),
        ("译成英文：这道题太难了。", "This question is too difficult."),
        ("麻烦翻译成英文，谢谢：我想预订一个双人间。", "I'd like to book a double room."),
        ("“生日快乐”用英文怎么说？", "Happy birthday!"),
        ("英文翻译一下：小心地滑。", "Caution: wet floor."),
        ("请把下面这句翻译为英文：图书馆里请保持安静。", "Please keep quiet in the library."),
    ],
}
# (prompt, right answer, kind): an off-topic pairing takes an answer of another kind
SHORT = {
    "en": [
        ("What's 56 divided by 7?", "8", "number"),
        ("What is the capital of Kenya?", "Nairobi", "place"),
        ("Who painted the Mona Lisa?", "Leonardo da Vinci.", "person"),
        ("Is a whale a mammal?", "Yes.", "yesno"),
        ("How many days are in a leap year?", "366", "number"),
        ("What's the chemical symbol for gold?", "Au", "thing"),
        ("Which planet is known as the Red Planet?", "Mars.", "thing"),
        ("Does ice float on water?", "Yes, it does.", "yesno"),
        ("In which country is the Taj Mahal?", "India", "place"),
        ("what color do you get if you mix blue and yellow", "Green.", "color"),
    ],
    "zh": [
        ("56 除以 7 是多少？", "8", "number"),
        ("肯尼亚的首都是哪座城市？", "内罗毕", "place"),
        ("《蒙娜丽莎》是谁画的？", "达·芬奇。", "person"),
        ("鲸鱼是哺乳动物吗？", "是的。", "yesno"),
        ("闰年一共有多少天？", "366天", "number"),
        ("金的化学符号是什么？", "Au", "thing"),
        ("哪颗行星被称为红色星球？", "火星。", "thing"),
        ("冰会浮在水面上吗？", "会。", "yesno"),
        ("泰姬陵在哪个国家？", "印度", "place"),
        ("蓝色和黄色混在一起是什么颜色？", "绿色。", "color"),
    ],
}
# Plain questions, no language request: the answer is in the prompt's language.
QUESTIONS = {
    "en": [
        ("Why does bread go stale?",
         "Bread goes stale mainly because the starch in it recrystallizes as it cools and ages, pushing water "
         "out and making the crumb firm and dry. Moisture also moves from the crumb to the crust, so the crust "
         "turns leathery. Keeping bread wrapped at room temperature slows this; the fridge speeds it up."),
        ("How do noise-cancelling headphones work?",
         "They have small microphones that pick up the sound around you. A chip then produces a sound wave that "
         "is the exact opposite of that noise and plays it through the speakers, so the two waves cancel each "
         "other out. It works best on steady low sounds like engine hum."),
        ("How should I store fresh basil?",
         "Treat it like cut flowers: trim the stems, put them in a glass of water and leave it on the counter "
         "out of direct sun, loosely covered with a bag. Don't put basil in the fridge, because the cold turns "
         "its leaves black."),
        ("What does a compiler do?",
         "A compiler translates source code written in a programming language, such as C or Rust, into machine "
         "code or another lower-level form that a computer can run. Along the way it checks the code for errors "
         "and often optimizes it so the program runs faster."),
        ("Why do onions make you cry?",
         "When you cut an onion you break its cells, which releases enzymes that turn its sulfur compounds into "
         "a gas called syn-propanethial-S-oxide. The gas reaches your eyes and irritates them, so your tear "
         "glands make tears to wash it away. Chilling the onion or using a sharp knife helps."),
        ("How long should I boil an egg if I want a runny yolk?",
         "Lower the egg into water that is already boiling and cook it for about 6 minutes, then put it in cold "
         "water for a minute to stop the cooking. That gives a set white and a runny yolk; add a minute for a "
         "jammy one."),
        ("What is compound interest?",
         "Compound interest is interest earned on both the money you put in and the interest it has already "
         "earned. For example, 1,000 dollars at 5% a year becomes 1,050 after one year and 1,102.50 after two, "
         "because the second year's interest is also paid on the first year's 50."),
        ("How do solar panels make electricity?",
         "Solar panels are made of cells, usually silicon, that absorb sunlight. The light knocks electrons "
         "loose in the silicon, and the cell's structure pushes them to flow in one direction, which is an "
         "electric current. An inverter then turns this direct current into the alternating current homes use."),
        ("What causes hiccups?",
         "Hiccups are sudden involuntary contractions of the diaphragm, each followed by the vocal cords snapping "
         "shut, which makes the 'hic' sound. They are often triggered by eating too fast, fizzy drinks, a full "
         "stomach or excitement, and usually stop on their own within minutes."),
        ("Is it better to rent or buy a home?",
         "It depends on your situation. Buying builds equity and gives stability if you plan to stay for many "
         "years, but it needs a down payment and comes with maintenance costs. Renting is more flexible and "
         "cheaper up front, which suits people who may move soon or whose local prices are very high."),
    ],
    "zh": [
        ("怎样泡一壶好喝的绿茶？",
         "泡绿茶水温不要太高，用80度左右的水最好，开水会把茶叶烫熟，变得苦涩。先用热水温一下杯子，放入适量茶叶，"
         "倒入少量水润茶，再注水到七八分满，浸泡一两分钟就可以喝了。玻璃杯或盖碗都很合适。"),
        ("高铁为什么跑得那么快？",
         "高铁快主要有几个原因：一是轨道是无缝钢轨，铺得非常平直，弯道半径大；二是列车采用动力分散的动车组，"
         "很多车厢都有电机，加速快；三是车身是流线型的，空气阻力小；再加上全封闭线路和先进的信号系统，"
         "所以能以每小时三百公里以上的速度安全运行。"),
        ("什么是二十四节气？",
         "二十四节气是中国古代根据太阳在黄道上的位置划分的二十四个时节，比如立春、清明、夏至、秋分、冬至等。"
         "古人用它来指导农业生产，安排播种和收获。2016年，二十四节气被列入联合国人类非物质文化遗产名录。"),
        ("感冒了应该注意什么？",
         "感冒时要多休息，保证充足的睡眠；多喝温水，饮食清淡；注意保暖，勤洗手，咳嗽打喷嚏时捂住口鼻，"
         "避免传染给别人。普通感冒一般一周左右会自愈，不需要吃抗生素。如果高烧不退或呼吸困难，应及时就医。"),
        ("为什么冬天窗户上会结霜？",
         "冬天室内温暖潮湿，窗玻璃却被室外冷空气冻得很冷。室内空气中的水蒸气碰到低于零度的玻璃，"
         "会直接凝华成小冰晶，附着在玻璃内侧，慢慢长成各种花纹，这就是窗花一样的霜。"),
        ("信用卡和借记卡有什么区别？",
         "借记卡是先存钱后消费，花的是自己账户里的钱，余额不足就刷不了。信用卡是银行给你一个额度，可以先消费"
         "后还款，在免息期内全额还款不收利息，逾期就要付利息和罚息。"),
        ("怎么判断西瓜熟没熟？",
         "可以从几个方面看：用手拍一拍，声音清脆、发出“咚咚”声的一般是熟瓜；瓜皮纹路清晰、颜色深绿有光泽；"
         "瓜蒂弯曲、有点干的比较熟；底部贴地的那块黄斑颜色越黄越好。"),
        ("为什么猫喜欢晒太阳？",
         "猫的祖先生活在沙漠地区，喜欢温暖。猫的正常体温比人高，晒太阳可以帮它保持体温、节省能量。"
         "另外，阳光照在皮毛上让它感觉舒服放松，所以猫常常找有阳光的地方睡觉。"),
        ("端午节为什么要吃粽子？",
         "传说战国时期楚国诗人屈原在农历五月初五投汨罗江自尽，百姓怕鱼虾吃掉他的身体，就把米饭包起来投进江里。"
         "后来这演变成端午节吃粽子的习俗，同时也有赛龙舟等活动来纪念他。"),
        ("手机电池怎样用才能更耐用？",
         "尽量让电量保持在20%到80%之间，不要经常用到自动关机再充；避免在高温环境下充电或使用，比如边充电边玩"
         "大型游戏；使用原装或正规的充电器；长时间不用时，存放前充到一半左右。"),
    ],
}
GROUPS = ("cross_language", "translation", "short", "questions")


def _item(group: str, tag: str, lang: str, answer_language: str, index: int, prompt: str, answer: str) -> dict:
    return {"id": f"heldout-{tag}-{lang}-{index}", "group": group, "prompt_language": lang,
            "language": answer_language, "prompt": prompt, "written": answer}


def prompts() -> list[dict]:
    """Every held-out prompt, as relevance_eval_prompts.prompts() gives them (id, group, prompt's language,
    answer's language, prompt, written answer, kind for short ones), ids prefixed `heldout-`."""
    out: list[dict] = []
    for lang, items in CROSS_LANGUAGE.items():
        other = "zh" if lang == "en" else "en"
        out += [_item("cross_language", "cross", lang, other, i, p, a) for i, (p, a) in enumerate(items)]
    for lang, items in TRANSLATION.items():
        other = "zh" if lang == "en" else "en"
        out += [_item("translation", "translate", lang, other, i, p, a) for i, (p, a) in enumerate(items)]
    for lang, short_items in SHORT.items():
        out += [_item("short", "short", lang, lang, i, p, a) | {"kind": kind}
                for i, (p, a, kind) in enumerate(short_items)]
    for lang, items in QUESTIONS.items():
        out += [_item("questions", "question", lang, lang, i, p, a) for i, (p, a) in enumerate(items)]
    return out
