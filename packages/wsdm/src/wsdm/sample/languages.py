"""The sample's multilingual vocabulary: seven languages in six scripts, the facts the prompts ask about
(translated) and the phrases the responses are built from.

Everything a judge needs is in the text itself: the script of a response against its prompt's, the
format markers, the answer. The facts are a fixed table of 40 (20 capitals, 10 chemical symbols, 10
counts) so that a small model can memorise them; symbols and counts read the same in every language,
which lets what is learnt in one language carry to the others. The translations are plain and short;
a native speaker would phrase some of them differently, which does not matter here.
"""

from __future__ import annotations

import re

# name -> (share of the rows, script); about 40 % English as in the competition
LANGUAGES: dict[str, tuple[float, str]] = {
    "English": (0.40, "Latin"),
    "Russian": (0.12, "Cyrillic"),
    "Chinese": (0.12, "Han"),
    "Spanish": (0.10, "Latin"),
    "Arabic": (0.09, "Arabic"),
    "Hindi": (0.09, "Devanagari"),
    "Japanese": (0.08, "Kana"),
}
NAMES = tuple(LANGUAGES)

# (English, Spanish, Russian, Chinese, Arabic, Hindi, Japanese) per entry, the order of NAMES
_ORDER = ("English", "Spanish", "Russian", "Chinese", "Arabic", "Hindi", "Japanese")


def _by_language(*texts: str) -> dict[str, str]:
    return dict(zip(_ORDER, texts, strict=True))


# country, capital
CAPITALS = [
    (
        _by_language("France", "Francia", "Франция", "法国", "فرنسا", "फ़्रांस", "フランス"),
        _by_language("Paris", "París", "Париж", "巴黎", "باريس", "पेरिस", "パリ"),
    ),
    (
        _by_language("Japan", "Japón", "Япония", "日本", "اليابان", "जापान", "日本"),
        _by_language("Tokyo", "Tokio", "Токио", "东京", "طوكيو", "टोक्यो", "東京"),
    ),
    (
        _by_language("Germany", "Alemania", "Германия", "德国", "ألمانيا", "जर्मनी", "ドイツ"),
        _by_language("Berlin", "Berlín", "Берлин", "柏林", "برلين", "बर्लिन", "ベルリン"),
    ),
    (
        _by_language("Italy", "Italia", "Италия", "意大利", "إيطاليا", "इटली", "イタリア"),
        _by_language("Rome", "Roma", "Рим", "罗马", "روما", "रोम", "ローマ"),
    ),
    (
        _by_language("Spain", "España", "Испания", "西班牙", "إسبانيا", "स्पेन", "スペイン"),
        _by_language("Madrid", "Madrid", "Мадрид", "马德里", "مدريد", "मैड्रिड", "マドリード"),
    ),
    (
        _by_language("Russia", "Rusia", "Россия", "俄罗斯", "روسيا", "रूस", "ロシア"),
        _by_language("Moscow", "Moscú", "Москва", "莫斯科", "موسكو", "मॉस्को", "モスクワ"),
    ),
    (
        _by_language("China", "China", "Китай", "中国", "الصين", "चीन", "中国"),
        _by_language("Beijing", "Pekín", "Пекин", "北京", "بكين", "बीजिंग", "北京"),
    ),
    (
        _by_language("Egypt", "Egipto", "Египет", "埃及", "مصر", "मिस्र", "エジプト"),
        _by_language("Cairo", "El Cairo", "Каир", "开罗", "القاهرة", "काहिरा", "カイロ"),
    ),
    (
        _by_language("India", "India", "Индия", "印度", "الهند", "भारत", "インド"),
        _by_language("New Delhi", "Nueva Delhi", "Нью-Дели", "新德里", "نيودلهي", "नई दिल्ली", "ニューデリー"),
    ),
    (
        _by_language("Brazil", "Brasil", "Бразилия", "巴西", "البرازيل", "ब्राज़ील", "ブラジル"),
        _by_language("Brasília", "Brasilia", "Бразилиа", "巴西利亚", "برازيليا", "ब्रासीलिया", "ブラジリア"),
    ),
    (
        _by_language("Canada", "Canadá", "Канада", "加拿大", "كندا", "कनाडा", "カナダ"),
        _by_language("Ottawa", "Ottawa", "Оттава", "渥太华", "أوتاوا", "ओटावा", "オタワ"),
    ),
    (
        _by_language(
            "Australia", "Australia", "Австралия", "澳大利亚", "أستراليا", "ऑस्ट्रेलिया", "オーストラリア"
        ),
        _by_language("Canberra", "Canberra", "Канберра", "堪培拉", "كانبرا", "कैनबरा", "キャンベラ"),
    ),
    (
        _by_language("Mexico", "México", "Мексика", "墨西哥", "المكسيك", "मेक्सिको", "メキシコ"),
        _by_language(
            "Mexico City",
            "Ciudad de México",
            "Мехико",
            "墨西哥城",
            "مكسيكو سيتي",
            "मेक्सिको सिटी",
            "メキシコシティ",
        ),
    ),
    (
        _by_language("Argentina", "Argentina", "Аргентина", "阿根廷", "الأرجنتين", "अर्जेंटीना", "アルゼンチン"),
        _by_language(
            "Buenos Aires",
            "Buenos Aires",
            "Буэнос-Айрес",
            "布宜诺斯艾利斯",
            "بوينس آيرس",
            "ब्यूनस आयर्स",
            "ブエノスアイレス",
        ),
    ),
    (
        _by_language("Turkey", "Turquía", "Турция", "土耳其", "تركيا", "तुर्की", "トルコ"),
        _by_language("Ankara", "Ankara", "Анкара", "安卡拉", "أنقرة", "अंकारा", "アンカラ"),
    ),
    (
        _by_language("Greece", "Grecia", "Греция", "希腊", "اليونان", "यूनान", "ギリシャ"),
        _by_language("Athens", "Atenas", "Афины", "雅典", "أثينا", "एथेंस", "アテネ"),
    ),
    (
        _by_language("Kenya", "Kenia", "Кения", "肯尼亚", "كينيا", "केन्या", "ケニア"),
        _by_language("Nairobi", "Nairobi", "Найроби", "内罗毕", "نيروبي", "नैरोबी", "ナイロビ"),
    ),
    (
        _by_language("Peru", "Perú", "Перу", "秘鲁", "بيرو", "पेरू", "ペルー"),
        _by_language("Lima", "Lima", "Лима", "利马", "ليما", "लीमा", "リマ"),
    ),
    (
        _by_language("Norway", "Noruega", "Норвегия", "挪威", "النرويج", "नॉर्वे", "ノルウェー"),
        _by_language("Oslo", "Oslo", "Осло", "奥斯陆", "أوسلو", "ओस्लो", "オスロ"),
    ),
    (
        _by_language("Poland", "Polonia", "Польша", "波兰", "بولندا", "पोलैंड", "ポーランド"),
        _by_language("Warsaw", "Varsovia", "Варшава", "华沙", "وارسو", "वारसॉ", "ワルシャワ"),
    ),
]

# element (in the form the question template takes), symbol
SYMBOLS = [
    (_by_language("gold", "oro", "золото", "金", "الذهب", "सोने", "金"), "Au"),
    (_by_language("iron", "hierro", "железо", "铁", "الحديد", "लोहे", "鉄"), "Fe"),
    (_by_language("silver", "plata", "серебро", "银", "الفضة", "चांदी", "銀"), "Ag"),
    (_by_language("sodium", "sodio", "натрий", "钠", "الصوديوم", "सोडियम", "ナトリウム"), "Na"),
    (_by_language("potassium", "potasio", "калий", "钾", "البوتاسيوم", "पोटैशियम", "カリウム"), "K"),
    (_by_language("oxygen", "oxígeno", "кислород", "氧", "الأكسجين", "ऑक्सीजन", "酸素"), "O"),
    (_by_language("hydrogen", "hidrógeno", "водород", "氢", "الهيدروجين", "हाइड्रोजन", "水素"), "H"),
    (_by_language("carbon", "carbono", "углерод", "碳", "الكربون", "कार्बन", "炭素"), "C"),
    (_by_language("lead", "plomo", "свинец", "铅", "الرصاص", "सीसे", "鉛"), "Pb"),
    (_by_language("copper", "cobre", "медь", "铜", "النحاس", "तांबे", "銅"), "Cu"),
]

# question, number
COUNTS = [
    (
        _by_language(
            "How many legs does a spider have?",
            "¿Cuántas patas tiene una araña?",
            "Сколько ног у паука?",
            "蜘蛛有几条腿？",
            "كم عدد أرجل العنكبوت؟",
            "मकड़ी के कितने पैर होते हैं?",
            "クモの脚は何本ですか？",
        ),
        "8",
    ),
    (
        _by_language(
            "How many legs does an insect have?",
            "¿Cuántas patas tiene un insecto?",
            "Сколько ног у насекомого?",
            "昆虫有几条腿？",
            "كم عدد أرجل الحشرة؟",
            "कीड़े के कितने पैर होते हैं?",
            "昆虫の脚は何本ですか？",
        ),
        "6",
    ),
    (
        _by_language(
            "How many days are in a week?",
            "¿Cuántos días tiene una semana?",
            "Сколько дней в неделе?",
            "一周有几天？",
            "كم عدد أيام الأسبوع؟",
            "एक सप्ताह में कितने दिन होते हैं?",
            "一週間は何日ですか？",
        ),
        "7",
    ),
    (
        _by_language(
            "How many continents are there?",
            "¿Cuántos continentes hay?",
            "Сколько существует континентов?",
            "世界上有几个大洲？",
            "كم عدد القارات؟",
            "कुल कितने महाद्वीप हैं?",
            "大陸はいくつありますか？",
        ),
        "7",
    ),
    (
        _by_language(
            "How many sides does a hexagon have?",
            "¿Cuántos lados tiene un hexágono?",
            "Сколько сторон у шестиугольника?",
            "六边形有几条边？",
            "كم عدد أضلاع الشكل السداسي؟",
            "षट्भुज की कितनी भुजाएँ होती हैं?",
            "六角形の辺はいくつありますか？",
        ),
        "6",
    ),
    (
        _by_language(
            "How many minutes are in an hour?",
            "¿Cuántos minutos tiene una hora?",
            "Сколько минут в часе?",
            "一小时有多少分钟？",
            "كم دقيقة في الساعة؟",
            "एक घंटे में कितने मिनट होते हैं?",
            "一時間は何分ですか？",
        ),
        "60",
    ),
    (
        _by_language(
            "How many months are in a year?",
            "¿Cuántos meses tiene un año?",
            "Сколько месяцев в году?",
            "一年有几个月？",
            "كم شهرًا في السنة؟",
            "एक साल में कितने महीने होते हैं?",
            "一年は何か月ですか？",
        ),
        "12",
    ),
    (
        _by_language(
            "How many hours are in a day?",
            "¿Cuántas horas tiene un día?",
            "Сколько часов в сутках?",
            "一天有多少小时？",
            "كم ساعة في اليوم؟",
            "एक दिन में कितने घंटे होते हैं?",
            "一日は何時間ですか？",
        ),
        "24",
    ),
    (
        _by_language(
            "How many sides does a triangle have?",
            "¿Cuántos lados tiene un triángulo?",
            "Сколько сторон у треугольника?",
            "三角形有几条边？",
            "كم عدد أضلاع المثلث؟",
            "त्रिभुज की कितनी भुजाएँ होती हैं?",
            "三角形の辺はいくつありますか？",
        ),
        "3",
    ),
    (
        _by_language(
            "How many players does a football team have on the field?",
            "¿Cuántos jugadores tiene un equipo de fútbol en el campo?",
            "Сколько игроков футбольной команды на поле?",
            "一支足球队在场上有几名球员？",
            "كم عدد لاعبي فريق كرة القدم في الملعب؟",
            "फ़ुटबॉल टीम में मैदान पर कितने खिलाड़ी होते हैं?",
            "サッカーチームはフィールドに何人の選手がいますか？",
        ),
        "11",
    ),
]

# The phrases; {x} = the subject, {y} = the answer, {a} + {b} = a sum, {n}/{year} = filler numbers.
PHRASES: dict[str, dict[str, str]] = {
    "ask_capital": _by_language(
        "What is the capital of {x}?",
        "¿Cuál es la capital de {x}?",
        "Какой город — столица страны {x}?",
        "{x}的首都是哪里？",
        "ما هي عاصمة {x}؟",
        "{x} की राजधानी क्या है?",
        "{x}の首都はどこですか？",
    ),
    "ask_symbol": _by_language(
        "What is the chemical symbol of {x}?",
        "¿Cuál es el símbolo químico del elemento {x}?",
        "Какой химический символ у элемента {x}?",
        "{x}的化学符号是什么？",
        "ما هو الرمز الكيميائي لعنصر {x}؟",
        "{x} का रासायनिक प्रतीक क्या है?",
        "{x}の元素記号は何ですか？",
    ),
    "ask_sum": _by_language(
        "What is {a} + {b}?",
        "¿Cuánto es {a} + {b}?",
        "Сколько будет {a} + {b}?",
        "{a} + {b} 等于多少？",
        "كم يساوي {a} + {b}؟",
        "{a} + {b} कितना होता है?",
        "{a} + {b} はいくつですか？",
    ),
    "state_capital": _by_language(
        "The capital of {x} is {y}.",
        "La capital de {x} es {y}.",
        "Столица страны {x} — {y}.",
        "{x}的首都是{y}。",
        "عاصمة {x} هي {y}.",
        "{x} की राजधानी {y} है।",
        "{x}の首都は{y}です。",
    ),
    "state_symbol": _by_language(
        "The chemical symbol of {x} is {y}.",
        "El símbolo químico del elemento {x} es {y}.",
        "Химический символ элемента {x} — {y}.",
        "{x}的化学符号是{y}。",
        "الرمز الكيميائي لعنصر {x} هو {y}.",
        "{x} का रासायनिक प्रतीक {y} है।",
        "{x}の元素記号は{y}です。",
    ),
    "state_answer": _by_language(
        "The answer is {y}.",
        "La respuesta es {y}.",
        "Ответ: {y}.",
        "答案是{y}。",
        "الجواب هو {y}.",
        "उत्तर {y} है।",
        "答えは{y}です。",
    ),
    "short": _by_language(
        "It is {y}.", "Es {y}.", "Это {y}.", "是{y}。", "إنه {y}.", "यह {y} है।", "{y}です。"
    ),
    "final": _by_language(
        "So the answer is {y}.",
        "Así que la respuesta es {y}.",
        "Итак, ответ: {y}.",
        "所以答案是{y}。",
        "إذن الجواب هو {y}.",
        "तो उत्तर {y} है।",
        "つまり、答えは{y}です。",
    ),
    "curt": _by_language(
        "I cannot help with that.",
        "No puedo ayudar con eso.",
        "Я не могу с этим помочь.",
        "我无法帮助你回答这个问题。",
        "لا أستطيع المساعدة في ذلك.",
        "मैं इसमें मदद नहीं कर सकता।",
        "それについてはお手伝いできません。",
    ),
    "want_list": _by_language(
        "Answer as a bulleted list.",
        "Responde con una lista de viñetas.",
        "Ответь маркированным списком.",
        "请用项目符号列表回答。",
        "أجب بقائمة نقطية.",
        "बुलेट सूची में उत्तर दें।",
        "箇条書きで答えてください。",
    ),
    "want_word": _by_language(
        "Answer in one word.",
        "Responde con una sola palabra.",
        "Ответь одним словом.",
        "请用一个词回答。",
        "أجب بكلمة واحدة.",
        "एक शब्द में उत्तर दें।",
        "一語で答えてください。",
    ),
    "want_json": _by_language(
        "Answer in JSON.",
        "Responde en formato JSON.",
        "Ответь в формате JSON.",
        "请用JSON格式回答。",
        "أجب بصيغة JSON.",
        "JSON प्रारूप में उत्तर दें।",
        "JSON形式で答えてください。",
    ),
    "pasted": _by_language(
        "Here is a text I copied:",
        "Aquí hay un texto que copié:",
        "Вот текст, который я скопировал:",
        "这是我复制的一段文字：",
        "هذا نص قمت بنسخه:",
        "यह एक पाठ है जो मैंने कॉपी किया:",
        "これはコピーした文章です：",
    ),
    "question": _by_language(
        "Now my question:",
        "Ahora mi pregunta:",
        "Теперь мой вопрос:",
        "现在我的问题是：",
        "والآن سؤالي:",
        "अब मेरा प्रश्न:",
        "では質問です：",
    ),
}

CLOSINGS: dict[str, list[str]] = {
    "English": ["I hope this helps.", "Let me know if you have more questions.", "Good question!"],
    "Spanish": ["Espero que esto ayude.", "Avísame si tienes más preguntas.", "¡Buena pregunta!"],
    "Russian": ["Надеюсь, это поможет.", "Спрашивайте, если есть ещё вопросы.", "Хороший вопрос!"],
    "Chinese": ["希望这对你有帮助。", "如果还有问题请告诉我。", "好问题！"],
    "Arabic": ["أتمنى أن يكون هذا مفيدًا.", "أخبرني إذا كان لديك أسئلة أخرى.", "سؤال جيد!"],
    "Hindi": ["आशा है इससे मदद मिलेगी।", "अगर और प्रश्न हों तो बताइए।", "अच्छा प्रश्न!"],
    "Japanese": ["お役に立てば幸いです。", "他に質問があれば教えてください。", "良い質問ですね！"],
}

# Reasoning filler: what a bloated or long response says around its answer, never the answer itself.
FILLERS: dict[str, list[str]] = {
    "English": [
        "This is an interesting question that many people ask.",
        "Let me think about it step by step.",
        "There are {n} different things to consider here.",
        "It is important to check every detail carefully.",
        "Some books from {year} describe this topic in a different way.",
        "We can look at the problem from {n} points of view.",
        "Many students find this part difficult at first.",
        "I will explain the reasoning in detail before giving the answer.",
    ],
    "Spanish": [
        "Esta es una pregunta interesante que mucha gente hace.",
        "Pensemos en ello paso a paso.",
        "Hay {n} cosas diferentes que considerar aquí.",
        "Es importante revisar cada detalle con cuidado.",
        "Algunos libros de {year} describen este tema de otra manera.",
        "Podemos ver el problema desde {n} puntos de vista.",
        "Muchos estudiantes encuentran difícil esta parte al principio.",
        "Explicaré el razonamiento en detalle antes de dar la respuesta.",
    ],
    "Russian": [
        "Это интересный вопрос, который задают многие люди.",
        "Давайте подумаем об этом шаг за шагом.",
        "Здесь нужно учесть {n} разных вещей.",
        "Важно внимательно проверить каждую деталь.",
        "Некоторые книги {year} года описывают эту тему по-другому.",
        "На задачу можно посмотреть с {n} точек зрения.",
        "Многим студентам эта часть сначала кажется трудной.",
        "Я подробно объясню рассуждение, прежде чем дать ответ.",
    ],
    "Chinese": [
        "这是一个很多人都会问的有趣问题。",
        "让我一步一步地思考。",
        "这里有{n}个不同的方面需要考虑。",
        "仔细检查每一个细节是很重要的。",
        "{year}年的一些书用不同的方式描述了这个话题。",
        "我们可以从{n}个角度来看这个问题。",
        "很多学生一开始觉得这部分很难。",
        "在给出答案之前，我会详细解释推理过程。",
    ],
    "Arabic": [
        "هذا سؤال مثير للاهتمام يطرحه كثير من الناس.",
        "دعني أفكر في الأمر خطوة بخطوة.",
        "هناك {n} أمور مختلفة يجب مراعاتها هنا.",
        "من المهم التحقق من كل التفاصيل بعناية.",
        "بعض الكتب من عام {year} تصف هذا الموضوع بطريقة مختلفة.",
        "يمكننا النظر إلى المسألة من {n} زوايا.",
        "يجد كثير من الطلاب هذا الجزء صعبًا في البداية.",
        "سأشرح طريقة التفكير بالتفصيل قبل إعطاء الإجابة.",
    ],
    "Hindi": [
        "यह एक दिलचस्प प्रश्न है जो बहुत से लोग पूछते हैं।",
        "आइए इस पर कदम दर कदम सोचते हैं।",
        "यहाँ {n} अलग-अलग बातों पर विचार करना है।",
        "हर विवरण को ध्यान से जाँचना ज़रूरी है।",
        "{year} की कुछ किताबें इस विषय को अलग तरीके से बताती हैं।",
        "हम इस समस्या को {n} दृष्टिकोणों से देख सकते हैं।",
        "कई छात्रों को शुरू में यह हिस्सा कठिन लगता है।",
        "उत्तर देने से पहले मैं तर्क को विस्तार से समझाऊँगा।",
    ],
    "Japanese": [
        "これは多くの人が尋ねる興味深い質問です。",
        "一歩ずつ考えてみましょう。",
        "ここでは考えるべき点が{n}個あります。",
        "すべての細部を注意深く確認することが大切です。",
        "{year}年の本の中には、このテーマを別の方法で説明しているものもあります。",
        "この問題は{n}通りの視点から見ることができます。",
        "多くの学生は最初この部分を難しいと感じます。",
        "答えを出す前に、考え方を詳しく説明します。",
    ],
}

# A pasted document: what a long prompt carries before its question, unrelated to the question.
CONTEXT: dict[str, list[str]] = {
    "English": [
        "The report was written by a team of {n} people.",
        "In {year} the library received {n} new books.",
        "The meeting on Monday lasted {n} minutes.",
        "Our town has {n} parks and a small river.",
        "The weather last week was cold and rainy.",
        "The company sold {n} bicycles last year.",
    ],
    "Spanish": [
        "El informe fue escrito por un equipo de {n} personas.",
        "En {year} la biblioteca recibió {n} libros nuevos.",
        "La reunión del lunes duró {n} minutos.",
        "Nuestro pueblo tiene {n} parques y un río pequeño.",
        "El tiempo de la semana pasada fue frío y lluvioso.",
        "La empresa vendió {n} bicicletas el año pasado.",
    ],
    "Russian": [
        "Отчёт написала команда из {n} человек.",
        "В {year} году библиотека получила {n} новых книг.",
        "Собрание в понедельник длилось {n} минут.",
        "В нашем городе {n} парков и небольшая река.",
        "Погода на прошлой неделе была холодной и дождливой.",
        "В прошлом году компания продала {n} велосипедов.",
    ],
    "Chinese": [
        "这份报告由{n}个人组成的团队撰写。",
        "{year}年，图书馆收到了{n}本新书。",
        "星期一的会议持续了{n}分钟。",
        "我们的小镇有{n}个公园和一条小河。",
        "上周的天气又冷又多雨。",
        "去年这家公司卖出了{n}辆自行车。",
    ],
    "Arabic": [
        "كتب التقرير فريق مكون من {n} أشخاص.",
        "في عام {year} تلقت المكتبة {n} كتابًا جديدًا.",
        "استمر اجتماع يوم الاثنين {n} دقيقة.",
        "في بلدتنا {n} حدائق ونهر صغير.",
        "كان الطقس في الأسبوع الماضي باردًا وممطرًا.",
        "باعت الشركة {n} دراجة في العام الماضي.",
    ],
    "Hindi": [
        "यह रिपोर्ट {n} लोगों की एक टीम ने लिखी थी।",
        "{year} में पुस्तकालय को {n} नई किताबें मिलीं।",
        "सोमवार की बैठक {n} मिनट तक चली।",
        "हमारे शहर में {n} पार्क और एक छोटी नदी है।",
        "पिछले सप्ताह मौसम ठंडा और बरसाती था।",
        "पिछले साल कंपनी ने {n} साइकिलें बेचीं।",
    ],
    "Japanese": [
        "この報告書は{n}人のチームによって書かれました。",
        "{year}年に図書館は{n}冊の新しい本を受け取りました。",
        "月曜日の会議は{n}分間続きました。",
        "私たちの町には公園が{n}か所と小さな川があります。",
        "先週の天気は寒くて雨が多かったです。",
        "その会社は昨年{n}台の自転車を販売しました。",
    ],
}

# Where the language puts a space between sentences (Chinese and Japanese do not).
SEPARATOR = {name: "" if name in ("Chinese", "Japanese") else " " for name in NAMES}

# Letters that identify each script (Han is shared by Chinese and Japanese; Kana marks Japanese).
SCRIPT_PATTERNS: dict[str, re.Pattern] = {
    "Latin": re.compile(r"[A-Za-z\u00C0-\u024F]"),
    "Cyrillic": re.compile(r"[\u0400-\u04FF]"),
    "Han": re.compile(r"[\u4E00-\u9FFF]"),
    "Arabic": re.compile(r"[\u0600-\u06FF]"),
    "Devanagari": re.compile(r"[\u0900-\u097F]"),
    "Kana": re.compile(r"[\u3040-\u30FF]"),
}


def scripts(text: str) -> set[str]:
    """The scripts whose letters occur in ``text``."""
    return {name for name, pattern in SCRIPT_PATTERNS.items() if pattern.search(text)}
