"""A small Bengali grammar for the sample's transcripts: a few hundred common words and sentence templates.

Why a grammar and not a word list: the n-gram LM, the punctuation model and the WER filter all need text with
the regularities of real sentences (subject-object-verb order, a verb that agrees with its subject, time words
that agree with the tense, questions that end in "?"), and the LM's extra text must come from the same
distribution as the spoken sentences without containing them.

The words are standard colloquial Bengali (চলিত ভাষা). Verbs carry four person forms per tense, in the order
of :data:`PERSONS`: first person (আমি, আমরা), second familiar (তুমি, তোমরা), third ordinary (সে, তারা, a
name) and honorific (আপনি, তিনি, আমার বাবা). Tenses: simple present (habitual), present continuous, simple
past, present perfect and future; each time word is tagged with the tenses it fits (গতকাল only with the
past, আগামীকাল only with the future, এখন only with the continuous).

Punctuation, as the normaliser writes it: a mark attached to the word before it. Statements end in "।",
questions (কোথায়, কী, কখন, কেন, কে, কেমন, কত, and yes/no questions with কি) in "?", a few exclamations
(কী সুন্দর ...) in "!"; commas after a vocative name, after হ্যাঁ/না/বাহ, inside lists ("আম, কলা আর লিচু")
and between two clauses (..., তাই ... / ..., কিন্তু ...). Every sentence has 3 to 9 words.

Spelling: ``য়``, ``ড়``, ``ঢ়`` are written as their single precomposed code points (U+09DF, U+09DC, U+09DD),
the form ``bnunicodenormalizer`` produces, so the transcripts are already normalised; espeak-ng also reads
these forms better (with ``য`` + nukta it drops the glide: খেয়েছ comes out as "khechho").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

PERSONS = ("1", "2", "3", "H")  # আমি-, তুমি-, সে- and আপনি/তিনি-forms
TENSES = ("present", "continuous", "past", "perfect", "future")
MIN_WORDS, MAX_WORDS = 3, 9
MARKS = ("।", ",", "?", "!")

_PRECOMPOSED = {"য\u09bc": "\u09df", "ড\u09bc": "\u09dc", "ঢ\u09bc": "\u09dd"}


def canonical(text: str) -> str:
    """``য`` / ``ড`` / ``ঢ`` + nukta as the one precomposed code point (the normaliser's spelling)."""
    for pair, single in _PRECOMPOSED.items():
        text = text.replace(pair, single)
    return text


@dataclass(frozen=True)
class Verb:
    """A verb: its forms per tense (four, in :data:`PERSONS` order) and the object class it takes."""

    lemma: str
    forms: dict[str, tuple[str, str, str, str]]
    objects: str = ""  # a key of OBJECTS; "" for a verb without a direct object


def _verb(lemma: str, objects: str, *tenses: str) -> Verb:
    forms = {}
    for tense, line in zip(TENSES, tenses, strict=True):
        words = tuple(canonical(w) for w in line.split())
        assert len(words) == 4, (lemma, tense, words)
        forms[tense] = words
    return Verb(canonical(lemma), forms, objects)


VERBS = {
    v.lemma: v
    for v in (
        _verb("খাওয়া", "food", "খাই খাও খায় খান", "খাচ্ছি খাচ্ছ খাচ্ছে খাচ্ছেন", "খেলাম খেলে খেল খেলেন",
              "খেয়েছি খেয়েছ খেয়েছে খেয়েছেন", "খাব খাবে খাবে খাবেন"),
        _verb("যাওয়া", "", "যাই যাও যায় যান", "যাচ্ছি যাচ্ছ যাচ্ছে যাচ্ছেন", "গেলাম গেলে গেল গেলেন",
              "গিয়েছি গিয়েছ গিয়েছে গিয়েছেন", "যাব যাবে যাবে যাবেন"),
        _verb("আসা", "", "আসি আসো আসে আসেন", "আসছি আসছ আসছে আসছেন", "এলাম এলে এল এলেন",
              "এসেছি এসেছ এসেছে এসেছেন", "আসব আসবে আসবে আসবেন"),
        _verb("পড়া", "reading", "পড়ি পড়ো পড়ে পড়েন", "পড়ছি পড়ছ পড়ছে পড়ছেন", "পড়লাম পড়লে পড়ল পড়লেন",
              "পড়েছি পড়েছ পড়েছে পড়েছেন", "পড়ব পড়বে পড়বে পড়বেন"),
        _verb("লেখা", "writing", "লিখি লেখো লেখে লেখেন", "লিখছি লিখছ লিখছে লিখছেন", "লিখলাম লিখলে লিখল লিখলেন",
              "লিখেছি লিখেছ লিখেছে লিখেছেন", "লিখব লিখবে লিখবে লিখবেন"),
        _verb("দেখা", "sights", "দেখি দেখো দেখে দেখেন", "দেখছি দেখছ দেখছে দেখছেন", "দেখলাম দেখলে দেখল দেখলেন",
              "দেখেছি দেখেছ দেখেছে দেখেছেন", "দেখব দেখবে দেখবে দেখবেন"),
        _verb("কেনা", "goods", "কিনি কেনো কেনে কেনেন", "কিনছি কিনছ কিনছে কিনছেন", "কিনলাম কিনলে কিনল কিনলেন",
              "কিনেছি কিনেছ কিনেছে কিনেছেন", "কিনব কিনবে কিনবে কিনবেন"),
        _verb("শোনা", "sounds", "শুনি শোনো শোনে শোনেন", "শুনছি শুনছ শুনছে শুনছেন", "শুনলাম শুনলে শুনল শুনলেন",
              "শুনেছি শুনেছ শুনেছে শুনেছেন", "শুনব শুনবে শুনবে শুনবেন"),
        _verb("করা", "tasks", "করি করো করে করেন", "করছি করছ করছে করছেন", "করলাম করলে করল করলেন",
              "করেছি করেছ করেছে করেছেন", "করব করবে করবে করবেন"),
        _verb("খেলা", "games", "খেলি খেলো খেলে খেলেন", "খেলছি খেলছ খেলছে খেলছেন", "খেললাম খেললে খেলল খেললেন",
              "খেলেছি খেলেছ খেলেছে খেলেছেন", "খেলব খেলবে খেলবে খেলবেন"),
        _verb("দেওয়া", "gifts", "দিই দাও দেয় দেন", "দিচ্ছি দিচ্ছ দিচ্ছে দিচ্ছেন", "দিলাম দিলে দিল দিলেন",
              "দিয়েছি দিয়েছ দিয়েছে দিয়েছেন", "দেব দেবে দেবে দেবেন"),
        _verb("পাঠানো", "gifts", "পাঠাই পাঠাও পাঠায় পাঠান", "পাঠাচ্ছি পাঠাচ্ছ পাঠাচ্ছে পাঠাচ্ছেন",
              "পাঠালাম পাঠালে পাঠাল পাঠালেন", "পাঠিয়েছি পাঠিয়েছ পাঠিয়েছে পাঠিয়েছেন", "পাঠাব পাঠাবে পাঠাবে পাঠাবেন"),
        _verb("নেওয়া", "goods", "নিই নাও নেয় নেন", "নিচ্ছি নিচ্ছ নিচ্ছে নিচ্ছেন", "নিলাম নিলে নিল নিলেন",
              "নিয়েছি নিয়েছ নিয়েছে নিয়েছেন", "নেব নেবে নেবে নেবেন"),
        _verb("শেখা", "skills", "শিখি শেখো শেখে শেখেন", "শিখছি শিখছ শিখছে শিখছেন", "শিখলাম শিখলে শিখল শিখলেন",
              "শিখেছি শিখেছ শিখেছে শিখেছেন", "শিখব শিখবে শিখবে শিখবেন"),
        _verb("চাওয়া", "goods", "চাই চাও চায় চান", "চাইছি চাইছ চাইছে চাইছেন", "চাইলাম চাইলে চাইল চাইলেন",
              "চেয়েছি চেয়েছ চেয়েছে চেয়েছেন", "চাইব চাইবে চাইবে চাইবেন"),
        _verb("বানানো", "made", "বানাই বানাও বানায় বানান", "বানাচ্ছি বানাচ্ছ বানাচ্ছে বানাচ্ছেন",
              "বানালাম বানালে বানাল বানালেন", "বানিয়েছি বানিয়েছ বানিয়েছে বানিয়েছেন", "বানাব বানাবে বানাবে বানাবেন"),
        _verb("গাওয়া", "songs", "গাই গাও গায় গান", "গাইছি গাইছ গাইছে গাইছেন", "গাইলাম গাইলে গাইল গাইলেন",
              "গেয়েছি গেয়েছ গেয়েছে গেয়েছেন", "গাইব গাইবে গাইবে গাইবেন"),
        _verb("থাকা", "", "থাকি থাকো থাকে থাকেন", "থাকছি থাকছ থাকছে থাকছেন", "থাকলাম থাকলে থাকল থাকলেন",
              "থেকেছি থেকেছ থেকেছে থেকেছেন", "থাকব থাকবে থাকবে থাকবেন"),
        _verb("ঘুমানো", "", "ঘুমাই ঘুমাও ঘুমায় ঘুমান", "ঘুমাচ্ছি ঘুমাচ্ছ ঘুমাচ্ছে ঘুমাচ্ছেন",
              "ঘুমালাম ঘুমালে ঘুমাল ঘুমালেন", "ঘুমিয়েছি ঘুমিয়েছ ঘুমিয়েছে ঘুমিয়েছেন", "ঘুমাব ঘুমাবে ঘুমাবে ঘুমাবেন"),
        _verb("বলা", "", "বলি বলো বলে বলেন", "বলছি বলছ বলছে বলছেন", "বললাম বললে বলল বললেন",
              "বলেছি বলেছ বলেছে বলেছেন", "বলব বলবে বলবে বলবেন"),
    )
}  # fmt: skip
TRANSITIVE = tuple(v for v in VERBS.values() if v.objects)
BE = tuple(canonical(w) for w in ("আছি", "আছ", "আছে", "আছেন"))  # কেমন আছেন?

# Subjects: (words, person). Pronouns, kin, people and names.
PRONOUNS = (
    ("আমি", "1"), ("আমরা", "1"), ("তুমি", "2"), ("তোমরা", "2"), ("সে", "3"), ("তারা", "3"), ("ওরা", "3"),
    ("আপনি", "H"), ("আপনারা", "H"), ("তিনি", "H"), ("উনি", "H"),
)  # fmt: skip
PEOPLE = (
    ("আমার ভাই", "3"), ("আমার বোন", "3"), ("আমার বন্ধু", "3"), ("ছোট মেয়েটি", "3"), ("ছেলেটি", "3"),
    ("কৃষক", "3"), ("ছাত্ররা", "3"), ("মেয়েরা", "3"), ("আমার বাবা", "H"), ("আমার মা", "H"), ("শিক্ষক", "H"),
    ("দাদু", "H"), ("ডাক্তার সাহেব", "H"),
)  # fmt: skip
NAMES = (
    "রহিম", "করিম", "সুমন", "রিনা", "মিতা", "আনিস", "ফাতেমা", "নাসরিন", "রাজু", "তানিয়া", "জামাল", "শফিক",
    "সাকিব", "নুসরাত", "আয়েশা", "হাসান", "পলাশ", "শাহানা", "রুমানা", "তপন", "অমিত", "দীপা", "সোহেল", "মরিয়ম",
    "বিপ্লব", "শিউলি", "রফিক", "লতিফা",
)  # fmt: skip
SECOND = (("তুমি", "2"), ("তোমরা", "2"), ("আপনি", "H"))  # whom a vocative name addresses
POSSESSORS = ("আমার", "তোমার", "তার", "আপনার", "আমাদের", "তোমাদের", "তাদের", "ওর")
RECIPIENTS = (
    ("আমাকে", "1"), ("তোমাকে", "2"), ("তাকে", "3"), ("আপনাকে", "H"), ("মাকে", ""), ("বন্ধুকে", ""),
    ("শিক্ষককে", ""), ("ছোট ভাইকে", ""), ("দাদুকে", ""),
)  # fmt: skip


@dataclass(frozen=True)
class Noun:
    text: str
    adjectives: tuple[str, ...] = ()
    countable: bool = False  # takes a number + classifier (দুটি আম)
    genitive: str = ""  # for "এই বইয়ের দাম কত?"


def _nouns(adjectives: str, countable: bool, *texts: str) -> tuple[Noun, ...]:
    adj = tuple(canonical(a) for a in adjectives.split())
    return tuple(Noun(canonical(t), tuple(a for a in adj if a != canonical(t)), countable) for t in texts)


_COOKED = _nouns("গরম মজার ঠান্ডা", False, "ভাত", "রুটি", "ডাল", "মাংস", "খিচুড়ি", "পায়েস", "বিরিয়ানি", "দই",
                 "মুড়ি", "চা", "সবজি")  # fmt: skip
_FRUIT = _nouns("পাকা তাজা মিষ্টি বড় ছোট", True, "আম", "কলা", "আপেল", "লিচু", "পেয়ারা", "কাঁঠাল", "নারকেল")
_RAW = _nouns("তাজা টাটকা বড়", False, "মাছ", "ইলিশ মাছ", "ডিম")
_SWEET = _nouns("গরম মজার", True, "পিঠা", "মিষ্টি")
_THINGS = _nouns("নতুন পুরনো লাল নীল সাদা কালো সুন্দর বড় ছোট দামি সস্তা", True, "কলম", "খাতা", "জামা", "ছাতা",
                 "ঘড়ি", "ব্যাগ", "সাইকেল", "শাড়ি", "বই")  # fmt: skip
_GENITIVE = {canonical(k): canonical(v) for k, v in {
    "কলম": "কলমের", "খাতা": "খাতার", "জামা": "জামার", "ছাতা": "ছাতার", "ঘড়ি": "ঘড়ির", "ব্যাগ": "ব্যাগের",
    "সাইকেল": "সাইকেলের", "শাড়ি": "শাড়ির", "বই": "বইয়ের", "আম": "আমের", "মাছ": "মাছের", "চাল": "চালের",
    "ইলিশ মাছ": "ইলিশ মাছের", "কাঁঠাল": "কাঁঠালের", "জুতা": "জুতার",
}.items()}  # fmt: skip
_THINGS = tuple(Noun(n.text, n.adjectives, n.countable, _GENITIVE.get(n.text, "")) for n in _THINGS)
_STAPLES = tuple(
    Noun(canonical(t), (), False, _GENITIVE.get(canonical(t), "")) for t in ("চাল", "চিনি", "আলু", "পেঁয়াজ")
)
OBJECTS: dict[str, tuple[Noun, ...]] = {
    "food": _COOKED + _FRUIT + _RAW + _SWEET,
    "reading": _nouns("নতুন পুরনো মজার সুন্দর", True, "বই", "গল্প", "কবিতা", "চিঠি", "উপন্যাস", "পত্রিকা")
    + _nouns("আজকের", False, "খবরের কাগজ"),
    "writing": _nouns("নতুন লম্বা ছোট সুন্দর", True, "চিঠি", "গল্প", "কবিতা", "প্রবন্ধ", "গান")
    + _nouns("", False, "হিসাব", "দরখাস্ত"),
    "sights": _nouns("নতুন সুন্দর মজার", False, "সিনেমা", "নাটক", "খেলা", "ছবি")
    + _nouns("সুন্দর", False, "পাখি", "নদী", "আকাশ", "চাঁদ", "সূর্যাস্ত", "টেলিভিশন"),
    "goods": _THINGS + _FRUIT + _RAW + _STAPLES,
    "sounds": _nouns("নতুন পুরনো সুন্দর মজার", False, "গান", "গল্প") + _nouns("", False, "খবর", "রেডিও", "কথা", "বাঁশি"),
    "tasks": _nouns("", False, "কাজ", "রান্না", "বাজার", "ব্যায়াম", "পড়াশোনা", "চাষ", "গোসল", "বাগান"),
    "games": _nouns("", False, "ফুটবল", "ক্রিকেট", "দাবা", "ব্যাডমিন্টন", "হাডুডু", "লুডু"),
    "gifts": _nouns("নতুন সুন্দর", True, "বই", "কলম", "চিঠি", "উপহার", "ছবি", "ফুল") + _nouns("", False, "খবর"),
    "skills": _nouns("", False, "বাংলা", "ইংরেজি", "অঙ্ক", "সাঁতার", "গান", "নাচ", "রান্না", "কম্পিউটার", "ইতিহাস"),
    "made": _nouns("গরম মজার", True, "পিঠা", "রুটি") + _nouns("গরম মজার", False, "চা", "খিচুড়ি")
    + _nouns("নতুন ছোট সুন্দর", True, "ঘুড়ি", "নৌকা", "ঘর"),
    "songs": _nouns("নতুন পুরনো সুন্দর", True, "গান") + _nouns("", False, "রবীন্দ্রসংগীত", "নজরুলগীতি", "লোকগীতি"),
}  # fmt: skip
NUMBERS = tuple(
    canonical(w) for w in ("একটি", "দুটি", "তিনটি", "চারটি", "পাঁচটি", "ছয়টি", "দশটি", "কয়েকটি", "অনেক")
)
AMOUNTS = tuple(canonical(w) for w in ("এক", "দুই", "তিন", "পাঁচ", "দশ", "আধা"))  # ... কেজি চাল
PRICES = tuple(canonical(w) for w in ("বিশ", "পঞ্চাশ", "একশো", "দুইশো", "পাঁচশো", "এক হাজার"))  # ... টাকা
DEMONSTRATIVES = ("এই", "ওই")
INTENSIFIERS = ("খুব", "বেশ", "অনেক")

# Places: (name, locative, can be closed). Cities and places in a town.
PLACES = tuple(
    (canonical(a), canonical(b), c)
    for a, b, c in (
        ("ঢাকা", "ঢাকায়", False), ("চট্টগ্রাম", "চট্টগ্রামে", False), ("খুলনা", "খুলনায়", False),
        ("রাজশাহী", "রাজশাহীতে", False), ("সিলেট", "সিলেটে", False), ("বরিশাল", "বরিশালে", False),
        ("রংপুর", "রংপুরে", False), ("কুমিল্লা", "কুমিল্লায়", False), ("ময়মনসিংহ", "ময়মনসিংহে", False),
        ("কলকাতা", "কলকাতায়", False), ("কক্সবাজার", "কক্সবাজারে", False), ("গ্রাম", "গ্রামে", False),
        ("শহর", "শহরে", False), ("স্কুল", "স্কুলে", True), ("কলেজ", "কলেজে", True), ("অফিস", "অফিসে", True),
        ("বাজার", "বাজারে", True), ("মাঠ", "মাঠে", False), ("হাসপাতাল", "হাসপাতালে", False),
        ("লাইব্রেরি", "লাইব্রেরিতে", True), ("দোকান", "দোকানে", True), ("পার্ক", "পার্কে", True),
        ("স্টেশন", "স্টেশনে", False), ("বিশ্ববিদ্যালয়", "বিশ্ববিদ্যালয়ে", True), ("নদীর ধার", "নদীর ধারে", False),
        ("মামার বাড়ি", "মামার বাড়িতে", False), ("বাড়ি", "বাড়িতে", False),
    )
)  # fmt: skip
CITIES = PLACES[:11]
SHOPS = ("বাজার", "দোকান", "শহর", "ঢাকা", "কলকাতা")  # ... থেকে কিনলাম
SHELTERS = tuple(
    p for p in PLACES if p[0] in {canonical(w) for w in ("বাড়ি", "মামার বাড়ি", "লাইব্রেরি", "অফিস")}
)  # ..., তাই ... থাকব
CITY_ADJECTIVES = ("সুন্দর", "বড়", "পুরনো", "ব্যস্ত", "ছোট", "পরিষ্কার")
TRANSPORT = tuple(canonical(w) for w in ("বাসে", "ট্রেনে", "রিকশায়", "নৌকায়", "হেঁটে", "গাড়িতে"))

# Time words and the tenses they fit.
_ANY = ("আজ", "সকালে", "দুপুরে", "বিকেলে", "সন্ধ্যায়", "রাতে", "আজ সকালে", "আজ রাতে", "সকাল আটটায়", "বিকেল পাঁচটায়",
        "রাত দশটায়")  # fmt: skip
TIMES: dict[str, tuple[str, ...]] = {
    tense: tuple(canonical(w) for w in words)
    for tense, words in {
        "present": ("প্রতিদিন", "রোজ", "প্রতি সপ্তাহে", "প্রায়ই", "সবসময়", "প্রতি শুক্রবার", "সকালে", "রাতে", "বিকেলে"),
        "continuous": ("এখন", "এই মুহূর্তে", "আজ"),
        "past": ("গতকাল", "গত সপ্তাহে", "গত মাসে", "গত বছর", "সেদিন", *_ANY),
        "perfect": ("আজ", "এইমাত্র", "অনেকবার", "আজ সকালে"),
        "future": ("আগামীকাল", "আগামী সপ্তাহে", "আগামী মাসে", "আগামী বছর", "পরে", *_ANY),
    }.items()
}  # fmt: skip
NEGATABLE = ("present", "future")  # "না" after the verb; the past negates differently (খাইনি), left out

WEATHER = {
    canonical(k): tuple(canonical(a) for a in v)
    for k, v in {
        "আবহাওয়া": ("ভালো", "খারাপ", "গরম", "ঠান্ডা", "চমৎকার"),
        "আকাশ": ("পরিষ্কার", "মেঘলা", "নীল"),
        "নদীর পানি": ("ঠান্ডা", "পরিষ্কার", "ঘোলা"),
        "রাস্তা": ("ফাঁকা", "ব্যস্ত", "ভেজা"),
        "বাতাস": ("ঠান্ডা", "গরম", "শুকনো"),
    }.items()
}  # fmt: skip
REASONS = tuple(canonical(w) for w in ("আজ বৃষ্টি হচ্ছে", "বাইরে খুব গরম", "বাইরে খুব ঠান্ডা", "আকাশে মেঘ করেছে",
                                       "রাস্তায় অনেক যানজট"))  # fmt: skip
WONDERS = tuple(canonical(w) for w in ("ফুল", "পাখি", "ছবি", "গান", "আকাশ", "দৃশ্য", "বাগান", "চাঁদ", "নদী"))


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _maybe(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _subject(rng: np.random.Generator) -> tuple[str, str]:
    r = rng.random()
    if r < 0.55:
        return _pick(rng, PRONOUNS)
    if r < 0.8:
        return _pick(rng, PEOPLE)
    return canonical(_pick(rng, NAMES)), "3"


def _object(rng: np.random.Generator, kind: str, quantity: bool = True, demonstrative: bool = True) -> str:
    noun = _pick(rng, OBJECTS[kind])
    words = []
    if quantity and noun.countable and _maybe(rng, 0.3):
        words.append(_pick(rng, NUMBERS))
    elif demonstrative and noun.countable and _maybe(rng, 0.15):
        words.append(_pick(rng, DEMONSTRATIVES))
    elif quantity and noun in _STAPLES and _maybe(rng, 0.5):
        words += [_pick(rng, AMOUNTS), "কেজি"]
    if noun.adjectives and _maybe(rng, 0.4):
        words.append(_pick(rng, noun.adjectives))
    return " ".join([*words, noun.text])


def _tense(rng: np.random.Generator) -> str:
    return TENSES[int(rng.choice(len(TENSES), p=[0.25, 0.15, 0.3, 0.1, 0.2]))]


def _time(rng: np.random.Generator, tense: str, p: float = 0.6) -> list[str]:
    return [_pick(rng, TIMES[tense])] if _maybe(rng, p) else []


def _person_index(person: str) -> int:
    return PERSONS.index(person)


def _recipients(subject: str, person: str) -> list[tuple[str, str]]:
    """Whom ``subject`` can give to: not itself (আমি -> আমাকে, আপনি -> আপনাকে)."""
    if person in ("1", "2") or subject in ("আপনি", "আপনারা"):
        return [r for r in RECIPIENTS if r[1] != person]
    return list(RECIPIENTS)


def _predicate(
    rng: np.random.Generator, subject: str, person: str, tense: str, negate: bool = False
) -> list[str]:
    """Object (or place) and verb: what follows the subject and the time."""
    i = _person_index(person)
    r = rng.random()
    if r < 0.55:
        verb = _pick(rng, TRANSITIVE)
        words = []
        if verb.objects == "gifts" and _maybe(rng, 0.6):
            words.append(_pick(rng, _recipients(subject, person))[0])
        if verb.lemma == canonical("দেওয়া") and _maybe(rng, 0.2):
            words += [_pick(rng, PRICES), "টাকা"]
        else:
            words.append(_object(rng, verb.objects))
        if verb.lemma == canonical("কেনা") and _maybe(rng, 0.2):
            words = [_pick(rng, SHOPS), "থেকে", *words]
        return [*words, verb.forms[tense][i], *(["না"] if negate else [])]
    if r < 0.8:
        verb = VERBS[canonical("যাওয়া")]
        place = _pick(rng, PLACES)
        words = [_pick(rng, TRANSPORT)] if _maybe(rng, 0.25) else []
        return [*words, place[1], verb.forms[tense][i], *(["না"] if negate else [])]
    if r < 0.88:
        verb = VERBS[canonical("আসা")]
        return [_pick(rng, PLACES)[0], "থেকে", verb.forms[tense][i], *(["না"] if negate else [])]
    if r < 0.94:
        verb = VERBS[canonical("থাকা")]
        return [_pick(rng, PLACES)[1], verb.forms[tense][i], *(["না"] if negate else [])]
    verb = _pick(rng, (VERBS[canonical("ঘুমানো")], VERBS[canonical("বলা")]))
    words = ["কথা"] if verb.lemma == canonical("বলা") else []
    if _maybe(rng, 0.3):
        words.insert(0, _pick(rng, ("খুব", "অনেক", "একটু")))
    return [*words, verb.forms[tense][i], *(["না"] if negate else [])]


def _statement(rng: np.random.Generator) -> str:
    subject, person = _subject(rng)
    tense = _tense(rng)
    negate = tense in NEGATABLE and _maybe(rng, 0.12)
    time = _time(rng, tense)
    head = [*time, subject] if time and _maybe(rng, 0.3) else [subject, *time]
    return " ".join([*head, *_predicate(rng, subject, person, tense, negate)]) + "।"


def _question(rng: np.random.Generator) -> str:
    subject, person = _subject(rng)
    i = _person_index(person)
    tense = _tense(rng)
    kind = _pick(rng, ("where", "what", "when", "yesno", "who", "why", "how", "have", "price", "far"))
    if kind == "where":
        verb = VERBS[canonical("যাওয়া")]
        words = [subject, *_time(rng, tense, 0.4), "কোথায়", verb.forms[tense][i]]
    elif kind == "what":
        verb = _pick(rng, TRANSITIVE[:8])
        words = [subject, *_time(rng, tense, 0.5), "কী", verb.forms[tense][i]]
    elif kind == "when":
        tense = _pick(rng, ("past", "future"))
        verb = _pick(rng, (VERBS[canonical("যাওয়া")], VERBS[canonical("আসা")]))
        place = [_pick(rng, PLACES)[1]] if verb.lemma == canonical("যাওয়া") and _maybe(rng, 0.7) else []
        words = [subject, "কখন", *place, verb.forms[tense][i]]
    elif kind == "yesno":
        words = [subject, "কি", *_time(rng, tense, 0.4), *_predicate(rng, subject, person, tense)]
    elif kind == "who":
        words = ["কে", *_time(rng, tense, 0.5), *_predicate(rng, "কে", "3", tense)]
    elif kind == "why":
        tense = _pick(rng, ("past", "continuous", "future"))
        words = [subject, "কেন", _pick(rng, PLACES)[1], VERBS[canonical("যাওয়া")].forms[tense][i]]
    elif kind == "how":
        subject, person = _pick(rng, [p for p in PRONOUNS if p[1] != "1"])  # not "আমি কেমন আছি?"
        words = [subject, "কেমন", BE[_person_index(person)]]
    elif kind == "have":
        words = [_pick(rng, POSSESSORS), "কি", _object(rng, "goods", demonstrative=False), canonical("আছে")]
    elif kind == "price":
        noun = _pick(rng, [n for n in _THINGS + _STAPLES if n.genitive])
        words = [_pick(rng, DEMONSTRATIVES), noun.genitive, "দাম", "কত"]
        if _maybe(rng, 0.3):
            words = [_pick(rng, ("বাজারে", "দোকানে")), *words[1:]]
    else:
        words = [_pick(rng, CITIES)[0], "এখান", "থেকে", "কত", "দূর"]
    return " ".join(words) + "?"


def _comma(rng: np.random.Generator) -> str:
    kind = _pick(rng, ("vocative", "answer", "list", "reason", "closed"))
    if kind == "vocative":
        name = canonical(_pick(rng, NAMES))
        subject, person = _pick(rng, SECOND)
        if _maybe(rng, 0.3):
            return f"{name}, {subject} কেমন {BE[_person_index(person)]}?"
        tense = _tense(rng)
        return f"{name}, {subject} {' '.join([*_time(rng, tense, 0.4), 'কোথায়'])} " + (
            VERBS[canonical("যাওয়া")].forms[tense][_person_index(person)] + "?"
        )
    if kind == "answer":
        if _maybe(rng, 0.5):
            return "হ্যাঁ, " + _statement(rng)
        subject, person = _subject(rng)
        tense = _pick(rng, NEGATABLE)
        return (
            "না, "
            + " ".join([subject, *_time(rng, tense), *_predicate(rng, subject, person, tense, True)])
            + "।"
        )
    if kind == "list":
        fruit = [n.text for n in _FRUIT]
        picked = [fruit[int(j)] for j in rng.choice(len(fruit), size=3, replace=False)]
        subject, person = _subject(rng)
        tense = _pick(rng, ("present", "past", "future"))
        verb = _pick(rng, (VERBS[canonical("কেনা")], VERBS[canonical("খাওয়া")], VERBS[canonical("চাওয়া")]))
        return (
            f"{subject} {picked[0]}, {picked[1]} আর {picked[2]} {verb.forms[tense][_person_index(person)]}।"
        )
    if kind == "reason":
        subject, person = _subject(rng)
        place = _pick(rng, SHELTERS)
        return f"{_pick(rng, REASONS)}, তাই {subject} {place[1]} {VERBS[canonical('থাকা')].forms['future'][_person_index(person)]}।"
    subject, person = _subject(rng)
    name, locative, _ = _pick(rng, [p for p in PLACES if p[2]])
    went = VERBS[canonical("যাওয়া")].forms["past"][_person_index(person)]
    return f"{subject} {locative} {went}, কিন্তু {name} বন্ধ ছিল।"


def _description(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.4:
        thing = _pick(rng, list(WEATHER))
        words = [*(["আজ"] if _maybe(rng, 0.5) else []), thing]
        words += [*([_pick(rng, INTENSIFIERS)] if _maybe(rng, 0.6) else []), _pick(rng, WEATHER[thing])]
        return " ".join(words) + "।"
    if r < 0.65:
        return f"{_pick(rng, CITIES)[0]} একটি {_pick(rng, CITY_ADJECTIVES)} শহর।"
    if r < 0.85:
        owner = _pick(rng, POSSESSORS)
        return f"{owner} {_object(rng, 'goods', demonstrative=False)} {canonical('আছে')}।"
    noun = _pick(rng, [n for n in _THINGS + _STAPLES if n.genitive])
    if noun in _THINGS:
        return f"{_pick(rng, DEMONSTRATIVES)} {noun.genitive} দাম {_pick(rng, PRICES)} টাকা।"
    return f"{_pick(rng, DEMONSTRATIVES)} {noun.genitive} দাম প্রতি কেজি {_pick(rng, PRICES[:3])} টাকা।"


def _exclamation(rng: np.random.Generator) -> str:
    head = "বাহ, " if _maybe(rng, 0.4) else ""
    if _maybe(rng, 0.2):
        return f"{head}আজ কী ভীষণ গরম পড়েছে!"
    return f"{head}{'আজ ' if _maybe(rng, 0.3) else ''}কী সুন্দর {_pick(rng, WONDERS)}!"


KINDS = {"statement": 0.5, "question": 0.22, "comma": 0.14, "description": 0.1, "exclamation": 0.04}
_MAKERS = {"statement": _statement, "question": _question, "comma": _comma, "description": _description,
           "exclamation": _exclamation}  # fmt: skip


def sentence(rng: np.random.Generator) -> str:
    """One sentence of 3-9 words drawn from the templates (kinds by :data:`KINDS`)."""
    shares = np.asarray(list(KINDS.values()))
    while True:
        kind = list(KINDS)[int(rng.choice(len(KINDS), p=shares / shares.sum()))]
        text = canonical(_MAKERS[kind](rng))
        if MIN_WORDS <= len(text.split()) <= MAX_WORDS:
            return text


def sentences(n: int, rng: np.random.Generator, exclude: Iterable[str] = ()) -> list[str]:
    """``n`` distinct sentences, none of them in ``exclude``, in the order drawn."""
    seen = set(exclude)
    out: list[str] = []
    tries = 0
    while len(out) < n:
        text = sentence(rng)
        tries += 1
        if text not in seen:
            seen.add(text)
            out.append(text)
        elif tries > 50 * n + 1000:
            raise RuntimeError(f"the grammar gave only {len(out)} distinct sentences of the {n} asked for")
    return out


def split_marks(text: str) -> tuple[list[str], list[str]]:
    """Words without their marks, and the mark after each word ("" for none): the inverse of
    :func:`join_marks` for this module's sentences."""
    words, marks = [], []
    for token in text.split():
        mark = token[-1] if token[-1] in MARKS else ""
        words.append(token[: len(token) - len(mark)])
        marks.append(mark)
    return words, marks


def join_marks(words: list[str], marks: list[str]) -> str:
    return " ".join(w + m for w, m in zip(words, marks, strict=True))


def vocabulary() -> set[str]:
    """Every word form the templates can produce (marks removed), for the tests."""
    out: set[str] = set()

    def add(*texts: str) -> None:
        for t in texts:
            out.update(canonical(t).split())

    for verb in VERBS.values():
        for forms in verb.forms.values():
            add(*forms)
    add(*BE, *(s for s, _ in PRONOUNS + PEOPLE + SECOND), *NAMES, *POSSESSORS, *(r for r, _ in RECIPIENTS))
    for nouns in OBJECTS.values():
        for noun in nouns:
            add(noun.text, *noun.adjectives, noun.genitive)
    add(*(n.text for n in _STAPLES), *NUMBERS, *AMOUNTS, *PRICES, *DEMONSTRATIVES, *INTENSIFIERS)
    add(*(a for a, _, _ in PLACES), *(b for _, b, _ in PLACES), *CITY_ADJECTIVES, *TRANSPORT)
    for times in TIMES.values():
        add(*times)
    for thing, adjectives in WEATHER.items():
        add(thing, *adjectives)
    add(*REASONS, *WONDERS)
    add("কেজি", "টাকা", "থেকে", "না", "কথা", "খুব", "একটু", "কোথায়", "কী", "কখন", "কি", "কে", "কেন", "কেমন", "আছে",
        "দাম", "প্রতি", "কত", "এখান", "দূর", "হ্যাঁ", "আর", "তাই", "কিন্তু", "বন্ধ", "ছিল", "একটি", "শহর", "বাহ", "ভীষণ", "গরম",
        "পড়েছে", "সুন্দর", "বাজারে", "দোকানে")  # fmt: skip
    return out
