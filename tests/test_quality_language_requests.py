"""Answer-language requests however phrased (issue 26): a table of prompts that ask for a language, in English
and Chinese, with the language named in either script, before or after the question, as a command or a request;
and a table of prompts that name a language without asking for it (a topic, a question about words, a speaker).

The tables are importable (REQUESTS, NOT_REQUESTS): benchmarks/bench_language_requests.py reads the parser's
recall and precision on them, before and after a change."""

from __future__ import annotations

import pytest

from healthmon.quality.language import (
    asked_language,
    asks_how_to_say,
    detect,
    expected_language,
    language_mismatch,
    without_echo,
)
from healthmon.quality.metrics import text_quality
from healthmon.quality.relevance import translation_source

REQUESTS = [
    # English, the language named in English
    ("Answer in English: what is a cat?", "en"),
    ("Answer in Traditional Chinese: why is tea popular?", "zh"),
    ("Answer in Simplified Chinese. What is rain?", "zh"),
    ("In Japanese, describe Mount Fuji.", "ja"),
    ("Explain in Chinese what a computer is.", "zh"),  # the request, then its question
    ("Tell me in German why we need sleep.", "de"),
    ("In German: what is the boiling point of water?", "de"),
    ("Reply in Chinese please", "zh"),
    ("Your answer must be in German.", "de"),
    ("Please write your response in Spanish.", "es"),
    ("Respond only in Korean.", "ko"),
    ("Describe Paris. Use French.", "fr"),
    ("What is the capital of Italy? (in German)", "de"),
    ("What is photosynthesis? Please answer in French.", "fr"),
    ("Explain gravity in simple English.", "en"),
    ("Tell me about the Great Wall in Mandarin Chinese.", "zh"),
    ("Summarize this story in Russian, please: a fox met a crow.", "ru"),
    ("Could you reply in Italian?", "it"),
    ("Write a short poem about the sea in Portuguese.", "pt"),
    ("Using Arabic, explain what a volcano is.", "ar"),
    ("Please use Japanese.", "ja"),
    ("How do vaccines work? Respond in English only.", "en"),
    ("Give me three tips for sleeping better, in Spanish.", "es"),
    ("Answer in English, not Chinese.", "en"),
    ("Don't answer in English; answer in French.", "fr"),
    ("Introduce yourself in Korean", "ko"),
    # English, the language named in Chinese
    ("Answer in 中文: what is a cat?", "zh"),
    ("Please reply in 英文.", "en"),
    # translations
    ("Translate into French: good morning", "fr"),
    ("Translate to German: good night", "de"),
    ("Translate 'thank you' into Chinese.", "zh"),
    ("Translate 'How are you?' into Japanese.", "ja"),
    ("Please translate the following sentence to Spanish: I like apples.", "es"),
    # Chinese, the language named in Chinese
    ("用日语回答：什么是太阳？", "ja"),
    ("用英文回答：什么是太阳？", "en"),
    ("请用英文", "en"),
    ("请用英文介绍一下长城。", "en"),
    ("以法语作答：巴黎有什么名胜？", "fr"),
    ("回答请使用英语。", "en"),
    ("什么是机器学习？请用中文回答。", "zh"),
    ("用繁体中文回答：台北在哪里？", "zh"),
    ("英文回答：为什么天空是蓝色的？", "en"),
    ("请以德语回复这封邮件。", "de"),
    ("介绍一下北京，用韩语写。", "ko"),
    # Chinese, the language named in English
    ("用English回答：什么是猫？", "en"),
    ("请用Japanese介绍一下东京。", "ja"),
    # Chinese translations
    ("翻译成英文：早上好", "en"),
    ("译成日语：谢谢", "ja"),
    ("把这句话翻译为法语：我爱你。", "fr"),
    ("把“早上好”翻译成英文。", "en"),
    ("请将下面的句子翻译成西班牙语：你好。", "es"),
    # Japanese
    ("日本語で答えてください：富士山の高さは？", "ja"),
    ("英語で説明してください。", "en"),
    # written after the parser, as a check it had not seen (16 of 20 read then; the four it missed are marked)
    ("Can you answer this in German? What is snow?", "de"),
    ("I would like the answer in Spanish.", "es"),
    ("Explain recursion. Answer should be in Chinese.", "zh"),
    ("French please: what is bread?", "fr"),  # missed then
    ("Respond using Korean.", "ko"),  # missed then
    ("What is the tallest mountain? Reply entirely in Japanese.", "ja"),
    ("Write your reply in British English.", "en"),
    ("请你用中文回答这个问题：What is AI?", "zh"),
    ("Please answer in Chinese (Traditional).", "zh"),
    ("回答时请用日文。", "ja"),
    ("请用汉语解释一下黑洞。", "zh"),
    ("用普通话讲讲长城。", "zh"),
    ("Convert this text to French: I am happy.", "fr"),  # missed then
    ("Render the following in German: good luck", "de"),  # missed then
    ("将以下内容译为英文：你好", "en"),
    ("请把它翻成中文：hello", "zh"),
    ("Answer the question below in Russian. Why is ice slippery?", "ru"),
    ("In Italian please: where is Rome?", "it"),
    ("Give your answer in Portuguese.", "pt"),
    ("用英语写一段自我介绍。", "en"),
    ("Translate the word 'dog' into French.", "fr"),
    # classes the held-out set found unread (issue 26), in new wordings: misspelt request verbs
    ("anwser in Japanese please: what is sushi?", "ja"),
    ("respnd in French: why do leaves fall?", "fr"),
    ("repyl in Spanish", "es"),
    ("translte to German: the train is late.", "de"),
    ("tranlsate into English: 我饿了", "en"),
    ("explian in korean plz why the sky is blue", "ko"),
    # the language named as its script or a variety
    ("Describe the moon landing, and write it in Chinese characters.", "zh"),
    ("Answer in simplified Chinese characters: what is tea?", "zh"),
    ("In traditional Chinese characters, what is a dragon?", "zh"),
    ("Explain tides in Mandarin.", "zh"),
    # "X translation" as a command
    ("Japanese translation please: see you tomorrow.", "ja"),
    ("German translation: where is the station?", "de"),
    ("Give me the Korean translation of this line: I miss you.", "ko"),
    ("Can you give me the French translation? The shop opens at nine.", "fr"),
    ("Put the following into Spanish: I am tired.", "es"),
    ("Render this in French: the cat sleeps.", "fr"),
    # the request after the question, 用X after 回答
    ("怎么做红烧肉？回答用英文就可以。", "en"),
    ("地球为什么是圆的？用法语回答就行。", "fr"),
    ("解释一下光合作用，回答请用日语。", "ja"),
    ("月亮为什么有阴晴圆缺？回答用英文吧。", "en"),
    # 中译英 and the like, "X翻译一下", 翻成X
    ("英译中：The weather is nice today.", "zh"),
    ("汉译英：我很想你。", "en"),
    ("英翻中：Good night.", "zh"),
    ("中翻英：明天见。", "en"),
    ("日译中：ありがとう", "zh"),
    ("德文翻译一下：我爱你。", "de"),
    ("中文翻译：See you soon.", "zh"),
    ("把这段话翻成日语：我们明天出发。", "ja"),
    # misspelt names, a name followed by "language:", verbless and adverbial Chinese requests (written after the
    # second and third blind sets missed their like)
    ("Summarize the plot of Hamlet, respond in chineese.", "zh"),
    ("answer in engish please: 为什么天空是蓝色的？", "en"),
    ("Write it in japaneese: a haiku about rain.", "ja"),
    ("Reply in Portugese: what is the best beach?", "pt"),
    ("用应文回答：地球有多大？", "en"),
    ("Please give your answer in the French language: what is a croissant?", "fr"),
    ("German translation of: 'The train is late.'", "de"),
    ("推荐几本书，英文回答就行。", "en"),
    ("能不能用英文简单介绍一下长城？", "en"),
    ("帮我写一段英文的生日祝福，给我的同事。", "en"),
    ("帮我写封感谢信，英文的，谢谢。", "en"),
    # the fourth blind set's misses, in forms of their own
    ("英译：明天的会议改到下午三点。", "en"),
    ("French answer only: what do bakers put in a baguette?", "fr"),
    ("English response please: 为什么猫喜欢晒太阳？", "en"),
    ("帮我起草一条请假短信，要英文的，简短一点", "en"),
    ("介绍一下故宫的历史，english please", "en"),
    # the fifth blind set's misses, in forms of their own
    ("what's the best way to learn to swim, in chinese thx", "zh"),
    ("Could u list 3 healthy snacks, in spanish?", "es"),
    ("Write a short card for my aunt in Chinese saying happy birthday.", "zh"),
    ("能不能用英文告诉我怎么点咖啡？", "en"),
    # the sixth blind set's misses, in forms of their own
    ("天空为什么是蓝的？（用英问回答）", "en"),
    ("summarize the news for me but spanish only pls", "es"),
    ("What is a black hole? Chinese characters please, no pinyin", "zh"),
    ("可以全程英文跟我聊吗？想练习口语。", "en"),
    ("帮我写个请假条，老板是英国人，所以要英文的。", "en"),
    ("介绍一下熊猫，英文版的吧", "en"),
]

NOT_REQUESTS = [
    "I speak English and want to know why the sky is blue.",
    "What is the capital of France?",
    "Is Chinese hard to learn?",
    "Translate this sentence",
    "Tell me about the English Channel",
    "中文和英文有什么区别？",
    "Chinese food recipes",
    "How do you say hello in French?",
    "What does 'Schadenfreude' mean in German?",
    "In French cuisine, what is a roux?",
    "Explain the role of articles in German grammar.",
    "Describe how people greet each other in Japanese culture.",
    "Why is English spoken in so many countries?",
    "Books written in English sell well in China.",
    "Who are the most famous Russian writers?",
    "What is the most common word in Spanish?",
    "Is Japanese related to Korean?",
    "使用中文的人有多少？",
    "学习日语难吗？",
    "英语为什么是国际通用语言？",
    "以英语为母语的人有多少？",
    "法语和西班牙语哪个更好学？",
    "介绍一下中文的历史。",
    "How is the weather today?",
    "今天天气怎么样？",
    "Why do students put so much effort in English class?",
    "What is the translation process in Chinese medicine?",
    # written after the parser, as a check it had not seen (none read as a request then)
    "Do you speak French?",
    "My teacher is German and strict.",
    "What languages are spoken in Switzerland, French or German?",
    "The Spanish Armada sailed in 1588.",
    "Is English grammar harder than Chinese grammar?",
    "他会说英语吗？",
    "中文里“谢谢”怎么写？",
    "What does hola mean in English?",
    "Why did the French revolution happen?",
    "Name a famous Japanese car brand.",
    # near misses of the classes above (issue 26): a translation as a topic, no language, a real word near a verb
    "The Chinese translation of the Bible was published in 1823.",
    "Who did the first English translation of the Analects?",
    "I like the Chinese translation of this poem better.",
    "translation please: hello",
    "replay in English",
    "英译中的技巧有哪些？",
    "中英翻译软件哪个好？",
    "这本书的英译本很好。",
    "英文翻译工作很辛苦。",
    "他的中文是什么水平？",
    # real words one edit from a name, a translation as a topic, a name inside another word, a name before a noun
    "Tell me about the economy in Germany.",
    "Explain what Prussian kings built.",
    "Describe daily life in Korea.",
    "英文翻译成中文的时候要注意什么？",
    "请按相应文件的要求回答。",
    "Explain the role of tones in the Chinese language.",
    "写一篇关于英文的文章。",
    "这是英文的。",
    "这本书的英译本很好看。",
    "The English answer key is at the back of the book.",
    "中英文混着说是一种什么现象？",
    "英文翻译这行工资高吗？",
    "全程英文翻译的费用是多少？",
    "英文交流能力怎么提高？",
    # questions how a phrase is said: either language answers them (HOW_TO_SAY below)
    "How do you say 'cheers' in German?",
    "How would I say good night in Japanese?",
    "How do I translate 'see you later' into Spanish?",
    "What's the Spanish translation of 'good luck'?",
    "“加油”用英语怎么说？",
    "这个词用日语怎么说：谢谢。",
    "“谢谢”的法语是什么？",
]

# Questions how a phrase is said in a language, and the phrase: "Bonjour" and 'In French you say "Bonjour"' both
# answer "How do you say hello in French?", so neither language is expected (no language_mismatch verdict), and
# relevance compares the phrase with the answer as it does a translation's source.
HOW_TO_SAY = [
    ("How do you say 'cheers' in German?", "cheers"),
    ("How would I say good night in Japanese?", "good night"),
    ("How do I translate 'see you later' into Spanish?", "see you later"),
    ("What's the Spanish translation of 'good luck'?", "good luck"),
    ("What is the Japanese translation of \"thank you very much\"?", "thank you very much"),
    ("“加油”用英语怎么说？", "加油"),
    ("这个词用日语怎么说：谢谢。", "谢谢。"),
    ("“谢谢”的法语是什么？", "谢谢"),
    ("What's 'good night' in Japanese?", "good night"),
    ("What's the Korean for 'see you tomorrow'?", "see you tomorrow"),
    ("How do I say 'I'm lost' in German?", "I'm lost"),
    ("日语里“谢谢”怎么说？", "谢谢"),
    ("英文里“没关系”一般怎么说？", "没关系"),
]


@pytest.mark.parametrize("prompt, language", REQUESTS)
def test_a_request_for_a_language_is_read_however_phrased(prompt, language):
    assert asked_language(prompt) == language
    assert expected_language(prompt, lambda text: ("en", 1.0)) == (language, True)


@pytest.mark.parametrize("prompt", NOT_REQUESTS)
def test_a_language_named_without_asking_for_it_is_not_a_request(prompt):
    assert asked_language(prompt) is None


@pytest.mark.parametrize("prompt, phrase", HOW_TO_SAY)
def test_a_question_how_a_phrase_is_said_expects_no_language_and_compares_the_phrase(prompt, phrase):
    assert asks_how_to_say(prompt)
    assert expected_language(prompt, lambda text: ("en", 1.0)) == (None, False)
    assert language_mismatch(expected_language(prompt)[0], detect("In French you say it like this, friend.")) is None
    assert translation_source(prompt) == phrase


def test_a_question_about_a_word_still_expects_the_prompt_language():
    """'What does X mean in Y?' asks for a meaning, told in the prompt's language: it stays as it was."""
    assert not asks_how_to_say("What does 'danke' mean in English?")
    assert expected_language("What does 'danke' mean in English?", lambda text: ("en", 1.0)) == ("en", False)
    assert asked_language("Answer in English: how do you say hello in French?") == "en"  # a request wins


@pytest.mark.parametrize("prompt, source", [
    ("中译英：我的钱包丢了。", "我的钱包丢了。"),
    ("Could you put this into German? The door is locked.", "The door is locked."),
    ("Korean translation please: where is the toilet?", "where is the toilet?"),
    ("tranlsate into French: it is raining.", "it is raining."),
])
def test_translation_requests_give_their_source(prompt, source):
    assert translation_source(prompt) == source


def test_the_tables_are_large_enough_and_bilingual():
    def chinese(prompt: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in prompt)

    assert len(REQUESTS) >= 40 and len(NOT_REQUESTS) >= 20
    assert sum(chinese(prompt) for prompt, _ in REQUESTS) >= 15
    assert sum(chinese(prompt) for prompt in NOT_REQUESTS) >= 7


def _identifier(language: str):
    return lambda text: (language, 1.0)


def test_a_short_answer_is_judged_by_its_script():
    """Too short for an identifier, a Latin-letter answer is still not the Chinese that was asked for, and a
    Chinese one is not the French; the same script gets no verdict rather than a guess."""
    asked_zh = asked_language("Answer in Chinese: capital of France?")
    asked_fr = asked_language("用法语回答：法国首都？")
    assert language_mismatch(asked_zh, detect("Paris, France", _identifier("en"))) is True
    assert language_mismatch(asked_fr, detect("巴黎", _identifier("zh"))) is True
    assert language_mismatch(asked_fr, detect("Paris, France", _identifier("en"))) is None
    assert language_mismatch(asked_zh, detect("巴黎", _identifier("zh"))) is None


@pytest.mark.parametrize("answer", ["42", "Paris", "`print(1)`", "```python\nprint('hi')\n```", "3.14159"])
def test_code_numbers_and_names_carry_no_language(answer):
    """An answer of a number, a name or code fits any requested language: no verdict, so no flag."""
    assert detect(answer, _identifier("en")) is None
    assert language_mismatch(asked_language("Answer in Chinese: what is 6 times 7?"), detect(answer)) is None


def test_an_unsure_identifier_still_leaves_the_script():
    """A sentence the identifier cannot place within its script ("Ottawa, Canada" reads 0.36 English) is still
    not Chinese: the script answers where the language cannot."""
    unsure = detect("The capital of Canada is Ottawa, Canada.", lambda text: ("en", 0.36))
    assert unsure == "latin"
    assert language_mismatch(asked_language("用中文回答：加拿大的首都是哪里？"), unsure) is True
    assert language_mismatch(asked_language("Answer in French: capital of Canada?"), unsure) is None
    assert detect("加拿大的首都是渥太华。", lambda text: ("ja", 0.3)) == "cjk"
    assert detect("Ottawa 是首都 and so on", lambda text: ("en", 0.3)) is None  # mixed scripts: no verdict


# SmolLM2's own answers (benchmarks/data/relevance_eval.jsonl) that passed before as the language asked for.
def test_a_quoted_word_is_not_the_language_of_the_answer():
    """An English sentence quoting Chinese words is English: the quotations and asides are mentions, not prose
    (before, the quote marks made the line look like code and nothing was judged)."""
    quoting = 'In Chinese, the Internet is called "草药" (草药) or "草药草" (草药草).'
    assert detect(quoting) == "en"
    assert language_mismatch(asked_language("In Chinese, what is the Internet?"), detect(quoting)) is True
    assert detect("北京（Beijing）是中国的首都，“Beijing”是它的英文名字。") == "zh"
    assert detect('"猫是一种小型的家养哺乳动物。"') == "zh"  # all of it quoted: the quotation is the answer
    assert detect("x = foo(a, b)\ny = bar(c)", _identifier("en")) is None  # code stays code


def test_an_echoed_question_does_not_decide_the_answer_language():
    echoed = "12 加 30 等于几？\n\nThe answer is 12."
    assert without_echo("12 加 30 等于几？", echoed).strip() == "The answer is 12."
    assert "language_mismatch" in text_quality("12 加 30 等于几？", echoed, "stop")["flags"]
    assert without_echo("法国的首都是哪里？", "法国的首都是哪里？") == "法国的首都是哪里？"  # a bare echo stays
    assert without_echo("What is 2 + 2?", "4") == "4"


def test_a_prompt_naming_the_other_language_gets_no_verdict_when_no_request_is_read():
    """A request the parser cannot read ("…, who reads only Chinese.") must not turn a right answer into a false
    alarm: a prompt in one script that names the other script's language gives no verdict. One that names only
    its own script's languages, a language as an adjective before a noun ("the first Chinese emperor"), or a
    name inside another word (精英文化) keeps it."""
    assert expected_language("Describe dragons for my grandma, who reads only Chinese.", _identifier("en")) == (
        None, False)
    assert expected_language("英语的语法难吗？", _identifier("zh")) == (None, False)
    assert expected_language("中文和日语哪个更难？", _identifier("zh")) == ("zh", False)  # same script
    assert expected_language("What is the history of the English language?", _identifier("en")) == ("en", False)
    assert expected_language("Who was the first Chinese emperor?", _identifier("en")) == ("en", False)
    assert expected_language("Why is Korean food spicy?", _identifier("en")) == ("en", False)
    assert expected_language("请谈谈精英文化对社会的影响。", _identifier("zh")) == ("zh", False)
    assert expected_language("这个方法文档写得怎么样？", _identifier("zh")) == ("zh", False)


def test_a_translation_is_judged_with_its_quotations():
    """Asked for a translation, the quoted text is the answer ('The Chinese translation is "早上好".')."""
    quoted = text_quality("翻译成英文：今天很冷。", "翻译：“It is very cold today.”", "stop")
    assert "language_mismatch" not in quoted["flags"]
    assert "language_mismatch" not in text_quality("Translate into Chinese: good morning",
                                                   'The Chinese translation is "早上好".', "stop")["flags"]


def test_a_sentence_with_a_colon_is_prose_and_a_python_block_opener_is_code():
    # "For …:" read as a for loop dropped a whole English answer from judgment (a third held-out set, written blind)
    assert detect("For a three-day hike, bring: water, food, a map and a rain jacket.") == "en"
    assert detect("If you want tea: boil the water first, then let it cool a little.") == "en"
    for code in ("for x in range(3):", "    if x > 2:", "for k, v in d.items(): print(k)", "while True:"):
        assert detect(code, _identifier("en")) is None


@pytest.mark.parametrize("prompt, answer, missing", [
    ('How do I say "good luck" in Chinese?', "Good luck!", "zh"),  # the phrase echoed, untranslated
    ('How do I say "good luck" in Chinese?', "Good luck is a wish for someone's success.", "zh"),
    ('How do I say "good luck" in Chinese?', "祝你好运！", None),
    ('How do I say "good luck" in Chinese?', 'In Chinese you say "祝你好运" (zhù nǐ hǎo yùn).', None),
    ('How do I say "good luck" in Chinese?', "You say zhù nǐ hǎo yùn.", None),  # pinyin says it too
    ("“加油”用英语怎么说？", "加油就是鼓励别人的意思。", "en"),
    ("“加油”用英语怎么说？", 'You can say "Come on!" or "You can do it!"', None),
    ('How do I say "good luck" in French?', "Good luck!", None),  # one script: no verdict from it
    ("How should I reply in Chinese when someone thanks me?", "Just smile and nod.", None),  # no phrase
])
def test_a_question_how_a_phrase_is_said_is_a_mismatch_when_the_answer_has_none_of_the_asked_script(
        prompt, answer, missing):
    """Either language may carry the answer, but not neither: an answer with nothing in the asked script (the
    phrase echoed, or only explained) is language_mismatch, with the asked language as the expected one."""
    quality = text_quality(prompt, answer, "stop")
    assert ("language_mismatch" in quality["flags"]) is (missing is not None)
    if missing:
        assert (quality["expected_language"], quality["language_asked"]) == (missing, True)
    else:
        assert quality["expected_language"] is None
