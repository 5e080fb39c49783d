"""Text normalisation on hand-picked Bengali strings: spellings unified, marks placed, a fixed point."""

import random

import pytest

from bengali_asr.normalize import PUNCTUATION, end_with_dari, normalize, normalize_word, strip_punctuation


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ক\u09c7\u09be", "ক\u09cb"),  # ে + া typed separately -> one ো
        ("ক\u09c7\u09d7", "ক\u09cc"),  # ে + ৗ -> ৌ
        ("প\u09a1\u09bc", "প\u09dc"),  # ড + nukta -> precomposed ড়
        ("য\u09bc", "\u09df"),  # য + nukta -> য়
        ("উত্স", "উৎস"),  # ত + hasanta before স is khanda-ta
        ("গ্র্রামকে", "গ্রামকে"),  # doubled ra-fola
        ("অা", "আ"),  # অ + া -> আ
        ("এ্যাপ", "অ্যাপ"),  # the usual spelling of the English 'a' sound
        ("\u09cdকথা", "কথা"),  # a word cannot start with a hasanta
        ("ব্যাক\u09cd", "ব্যাক"),  # nor end with one
        ("ঀটা", "৭টা"),  # legacy anji, mapped to its look-alike seven
        ("ক\u200cক", "কক"),  # stray ZWNJ
    ],
)
def test_legacy_and_broken_spellings_become_one_form(given, expected):
    assert normalize(given) == expected


@pytest.mark.parametrize("dari", ["।", "|", "॥", "৷"])
def test_every_dari_variant_becomes_the_dari_attached_to_its_word(dari):
    assert normalize(f"আমি বাড়ি যাই {dari}") == "আমি বাড়ি যাই।"
    assert normalize(f"আমি বাড়ি যাই{dari}তুমি") == "আমি বাড়ি যাই। তুমি"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("তুমি কোথায় যাও ?", "তুমি কোথায় যাও?"),
        ("হ্যাঁ ,সে এলো", "হ্যাঁ, সে এলো"),
        ("কী সুন্দর !", "কী সুন্দর!"),
        ("কী!?", "কী?"),  # one mark per word: the strongest of a run
        ("কথা।।", "কথা।"),
        ("কথা,।", "কথা।"),
        (", আমি এলাম", "আমি এলাম"),  # a mark before the first word has no word to follow
        ("？ কেন ？", "কেন?"),  # full-width marks
        ("  আমি   এলাম \t\n ", "আমি এলাম"),
    ],
)
def test_kept_marks_attach_to_the_word_before_them(given, expected):
    assert normalize(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("“আমি” (তুমি) — সে", "আমি তুমি সে"),  # quotes, brackets, dashes separate words and vanish
        ("সে কি এলো? হ্যাঁ; এলো.", "সে কি এলো? হ্যাঁ এলো"),  # ; and . are not kept marks
        ("ঢাকা-চট্টগ্রাম", "ঢাকা চট্টগ্রাম"),
        ("তুমি‘র", "তুমির"),  # an apostrophe joins
        ("৳ ১০০ % 😀", "১০০"),  # symbols and emoji are dropped
    ],
)
def test_other_punctuation_and_symbols_are_removed(given, expected):
    assert normalize(given) == expected


def test_punctuation_false_removes_the_marks_and_strip_is_that():
    text = "হ্যাঁ, সে কি এলো? না! সে আসেনি |"
    assert normalize(text, punctuation=False) == "হ্যাঁ সে কি এলো না সে আসেনি"
    assert strip_punctuation(text) == normalize(text, punctuation=False)
    assert not any(mark in strip_punctuation(text) for mark in PUNCTUATION)
    assert strip_punctuation("কথা?বলো") == "কথা বলো"  # a mark still separates words


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("OK বাংলাদেশ", "ok বাংলাদেশ"),  # English kept, lower-cased
        ("বাংলাOK", "বাংলাok"),  # code-switching inside a word is kept
        ("Dhaka শহর 10টা", "dhaka শহর ১০টা"),  # ASCII digits become Bengali digits
        ("2024 সাল", "২০২৪ সাল"),
        ("১,০০০ টাকা", "১০০০ টাকা"),  # a separator between digits is not a comma
        ("৩.৫", "৩৫"),
        ("don't", "dont"),
        ("e-mail", "e mail"),
    ],
)
def test_english_and_digits(given, expected):
    assert normalize(given) == expected


def test_words_the_normaliser_empties_are_kept_when_they_have_letters_and_dropped_otherwise():
    assert normalize_word("नमस्ते") == "नमस्ते"  # bnunicodenormalizer returns None for other scripts
    assert normalize("नमस्ते বন্ধু।") == "नमस्ते বন্ধু।"
    assert normalize("া কথা") == "কথা"  # a lone vowel sign is junk
    assert normalize("\u200d কথা \u09cd") == "কথা"  # so are a lone ZWJ and a lone hasanta
    assert normalize("") == ""
    assert normalize(" ।, ") == ""


HAND_PICKED = [
    "আমি বাড়ি যাই |",
    "তুমি কোথায় যাও ?",
    "“হ্যাঁ,” সে বলল ॥",
    "ক\u09c7\u09beন এলে?!",
    "উত্স গ্র্রামকে ঀটা",
    "OK 2024 সালে ১,০০০ টাকা",
    "नमस्ते া বন্ধু\u200d",
]


@pytest.mark.parametrize("text", HAND_PICKED)
def test_normalize_is_a_fixed_point_and_agrees_with_strip(text):
    once = normalize(text)
    assert normalize(once) == once
    assert strip_punctuation(once) == strip_punctuation(text)
    assert strip_punctuation(strip_punctuation(text)) == strip_punctuation(text)
    assert "  " not in once and once == once.strip()
    assert not any(f" {mark}" in once for mark in PUNCTUATION)


def test_normalize_is_a_fixed_point_on_random_bengali_strings():
    # bnunicodenormalizer alone is not idempotent on every string; normalize_word repeats it until it stops
    # changing (here one pass gives "ৎঃৎনট", a second "ৎৎনট").
    assert normalize_word("ৎৎঃনট") == normalize_word(normalize_word("ৎৎঃনট")) == "ৎৎনট"
    alphabet = [chr(c) for c in range(0x0980, 0x0A00)] + list(",।?!|-'\u200c\u200dab12") + [" "] * 8
    rng = random.Random(0)
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25)))
        once = normalize(text)
        assert normalize(once) == once, repr(text)
        assert strip_punctuation(once) == strip_punctuation(text), repr(text)


def test_a_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="expected str, got float"):
        normalize(float("nan"))


def test_end_with_dari_adds_one_only_where_no_mark_ends_the_text():
    assert end_with_dari("আমি ভাত খাই") == normalize("আমি ভাত খাই।")
    assert end_with_dari("তুমি কোথায় যাও?") == normalize("তুমি কোথায় যাও?")
    assert end_with_dari("আমি ভাত খাই |") == normalize("আমি ভাত খাই।")
    assert end_with_dari("আমি ভাত খাই").endswith("।") and end_with_dari("কে যাও?").count("।") == 0
    assert end_with_dari("") == ""
