"""The ARPA writer is lmplz: hand-computed modified Kneser-Ney on a toy bigram corpus, the exact numbers of
lmplz's own outputs (KenLM's test models and models from a local lmplz build, quirk included), every context's
distribution sums to 1, and KenLM (flashlight-text's bundled copy) scores sentences as our reader does."""

import math
import random

import pytest
from flashlight.lib.text.decoder.kenlm import KenLM
from flashlight.lib.text.dictionary import Dictionary

from bengali_asr.arpa import (
    EOS,
    FALLBACK_DISCOUNTS,
    ArpaLM,
    discounts,
    estimate,
    read_arpa,
    read_unigrams,
    write_arpa,
)

HAND = ["a", "a", "a b", "b", "c"]


def p(lm: ArpaLM, word: str, *context: str) -> float:
    return 10 ** lm.logprob(word, context)


def test_hand_computed_bigram(tmp_path):
    """<s> a </s> x2, <s> a b </s>, <s> b </s>, <s> c </s>, order 2.

    Bigrams keep raw counts: <s> a 3, a </s> 2, b </s> 2, a b 1, <s> b 1, <s> c 1, c </s> 1 -> n = [4, 2, 1, 0],
    Y = 4 / 8, D1 = 1 - 2 Y 2/4 = 0.5, D2 = 2 - 3 Y 1/2 = 1.25, D3+ = 3 - 0 = 3.
    Unigrams get continuation counts (distinct words before them): a {<s>} 1, b {<s>, a} 2, c {<s>} 1,
    </s> {a, b, c} 3 -> n = [2, 1, 1, 0], Y = 2/4, D1 = 0.5, D2 = 2 - 3 Y 1/1 = 0.5, D3+ = 3.
    Unigrams: sum a = 7, gamma() = (0.5*2 + 0.5*1 + 3*1) / 7 = 9/14, uniform over {<unk>, </s>, a, b, c} = 1/5:
    p(a) = p(c) = 0.5/7 + 9/70 = 0.2, p(b) = 1.5/7 + 9/70 = 12/35, p(</s>) = p(<unk>) = 0 + 9/70.
    """
    stats = write_arpa(HAND, tmp_path / "hand.arpa", order=2)
    assert stats["counts_of_counts"] == [[2, 1, 1, 0], [4, 2, 1, 0]]
    assert stats["discounts"] == [pytest.approx([0.5, 0.5, 3.0]), pytest.approx([0.5, 1.25, 3.0])]
    assert stats["fallback"] == []
    assert stats["ngrams"] == [6, 7]  # <unk> <s> </s> a b c; the 7 bigrams
    lm = ArpaLM(tmp_path / "hand.arpa")
    approx = lambda x: pytest.approx(x, rel=1e-6)  # noqa: E731 (the file holds float32)
    assert [p(lm, w) for w in ("a", "b", "c", EOS, "<unk>")] == [
        approx(v) for v in (0.2, 12 / 35, 0.2, 9 / 70, 9 / 70)
    ]
    # after <s>: a 3, b 1, c 1 -> total 5, gamma(<s>) = (0.5*2 + 3*1) / 5 = 0.8
    assert p(lm, "a", "<s>") == approx(0 / 5 + 0.8 * 0.2)  # a(<s> a) = 3, D3+ = 3 takes it all
    assert p(lm, "b", "<s>") == approx(0.5 / 5 + 0.8 * 12 / 35)
    assert p(lm, "c", "<s>") == approx(0.5 / 5 + 0.8 * 0.2)
    assert p(lm, EOS, "<s>") == approx(0.8 * 9 / 70)  # unseen: back-off x unigram
    # after a: </s> 2, b 1 -> total 3, gamma(a) = (1.25 + 0.5) / 3 = 7/12
    assert p(lm, EOS, "a") == approx(0.75 / 3 + 7 / 12 * 9 / 70)
    assert p(lm, "b", "a") == approx(0.5 / 3 + 7 / 12 * 12 / 35)
    assert p(lm, "a", "a") == approx(7 / 12 * 0.2)
    # after b: </s> 2 -> gamma(b) = 1.25 / 2; after c: </s> 1 -> gamma(c) = 0.5
    assert p(lm, EOS, "b") == approx(0.75 / 2 + 0.625 * 9 / 70)
    assert p(lm, "a", "c") == approx(0.5 * 0.2)
    _, _, backoffs = read_arpa(tmp_path / "hand.arpa")
    assert {g: round(10**b, 6) for g, b in backoffs.items() if b} == {
        ("<s>",): 0.8, ("a",): round(7 / 12, 6), ("b",): 0.625, ("c",): 0.5
    }  # fmt: skip
    assert backoffs[(EOS,)] == backoffs[("<unk>",)] == 0.0  # never a context
    # a whole sentence: p(a | <s>) p(b | a) p(</s> | b); an unknown word scores as <unk>
    expected = math.log10(0.16 * (0.5 / 3 + 0.2) * (0.375 + 0.625 * 9 / 70))
    assert lm.score("a b") == pytest.approx(expected, abs=1e-6)
    assert lm.logprob("zzz", ["a"]) == pytest.approx(lm.logprob("<unk>", ["a"]))


def test_discount_formula_and_fallback():
    # Chen & Goodman eq. 26: Y = 10 / 18; D1 = 1 - 2Y 4/10, D2 = 2 - 3Y 2/4, D3+ = 3 - 4Y 1/2
    d, fell_back = discounts([10, 4, 2, 1])
    y = 10 / 18
    assert not fell_back
    assert d == pytest.approx((1 - 2 * y * 4 / 10, 2 - 3 * y * 2 / 4, 3 - 4 * y * 1 / 2))
    assert discounts([3, 0, 1, 0]) == (FALLBACK_DISCOUNTS, True)  # no doubletons: lmplz --discount_fallback
    assert discounts([1, 1, 5, 0]) == (FALLBACK_DISCOUNTS, True)  # D2 = 2 - 3 (1/3) 5 < 0: out of range


# lmplz --discount_fallback -o 3 on "a a b a" / "b a a b": KenLM's own test model, lm/common/test_data/toy0.arpa
TOY0 = (
    ["a a b a", "b a a b"],
    3,
    """\\data\\
ngram 1=5
ngram 2=7
ngram 3=7

\\1-grams:
-0.90309\t<unk>\t0
0\t<s>\t-0.30103
-0.46943438\ta\t-0.30103
-0.5720968\t</s>\t0
-0.5720968\tb\t-0.30103

\\2-grams:
-0.37712017\t<s> a\t-0.30103
-0.37712017\ta a\t-0.30103
-0.2984526\tb a\t-0.30103
-0.58682007\ta </s>\t0
-0.5220179\tb </s>\t0
-0.41574955\t<s> b\t-0.30103
-0.58682007\ta b\t-0.30103

\\3-grams:
-0.14885087\t<s> a a
-0.33741078\tb a a
-0.124077894\t<s> b a
-0.2997394\ta b a
-0.42082912\tb a </s>
-0.397617\ta b </s>
-0.20102891\ta a b

\\end\\
""",
)
# lm/common/test_data/toy1.arpa: lmplz --discount_fallback -o 3 on "a a b b b b b b b" / "c"
TOY1 = (
    ["a a b b b b b b b", "c"],
    3,
    """\\data\\
ngram 1=6
ngram 2=7
ngram 3=6

\\1-grams:
-1\t<unk>\t0
0\t<s>\t-0.30103
-0.6146491\ta\t-0.30103
-0.6146491\t</s>\t0
-0.7659168\tc\t-0.30103
-0.6146491\tb\t-0.30103

\\2-grams:
-0.4301247\t<s> a\t-0.30103
-0.4301247\ta a\t-0.30103
-0.20660876\tc </s>\t0
-0.5404639\tb </s>\t0
-0.4740302\t<s> c\t-0.30103
-0.4301247\ta b\t-0.30103
-0.3422159\tb b\t-0.47712123

\\3-grams:
-0.1638568\t<s> a a
-0.09113217\t<s> c </s>
-0.7462621\tb b </s>
-0.1638568\ta a b
-0.13823806\ta b b
-0.13375957\tb b b

\\end\\
""",
)
# The next three come from lmplz built from kenlm commit 4cb443e (2025), closed-form discounts, no fallback.
# HAND, -o 2: the numbers hand-computed above.
LMPLZ_HAND = (
    HAND,
    2,
    """\\data\\
ngram 1=6
ngram 2=7

\\1-grams:
-0.89085555\t<unk>\t0
0\t<s>\t-0.09691001
-0.89085555\t</s>\t0
-0.69896996\ta\t-0.23408322
-0.46488678\tb\t-0.20412
-0.69896996\tc\t-0.30103

\\2-grams:
-0.48811665\ta </s>
-0.34164786\tb </s>
-0.24850096\tc </s>
-0.79587996\t<s> a
-0.42679673\t<s> b
-0.43572855\ta b
-0.5850266\t<s> c

\\end\\
""",
)
# -o 2 on a corpus where lmplz's end-of-pass quirk changes the discounts: the unigram "a" (continuation count 1)
# is the last n-gram AdjustCounts holds, so its raw count 4 goes into the counts-of-counts: n = [1, 1, 1, 1] and
# lmplz prints D1=0.333333 D2=1 D3+=1.66667 (the continuation counts alone give n = [2, 1, 1, 0], D1 = 0.5).
QUIRK = (
    ["c b b", "a", "a b", "a", "a"],
    2,
    """\\data\\
ngram 1=6
ngram 2=7

\\1-grams:
-1.0211893\t<unk>\t0
0\t<s>\t-0.6989701
-0.6232493\t</s>\t0
-0.7201593\tc\t-0.17609128
-0.54406804\tb\t-0.65321255
-0.7201593\ta\t-0.60206

\\2-grams:
-0.14292291\tb </s>
-0.13894944\ta </s>
-0.9797966\t<s> c
-0.2808266\tc b
-0.7579478\tb b
-0.81033593\ta b
-0.11270427\t<s> a

\\end\\
""",
)
# -o 3, closed form at every order (lmplz: D = 0.5 0.5 3 / 0.6 0.2 3 / 0.2 1.7 3)
TRIGRAM = (
    ["d a b", "a b", "d a b"],
    3,
    """\\data\\
ngram 1=6
ngram 2=5
ngram 3=4

\\1-grams:
-1.09691\t<unk>\t0
0\t<s>\t-0.5740313
-0.7447275\t</s>\t0
-0.7447275\td\t-0.22184873
-0.42021638\ta\t-1.0000001
-0.7447275\tb\t-0.22184873

\\2-grams:
-0.2941363\tb </s>\t0
-0.188425\t<s> d\t-0.07058106
-0.6295486\t<s> a\t-0.69897
-0.20204034\td a\t-0.07058106
-0.037157297\ta b\t0

\\3-grams:
-0.2941363\ta b </s>
-0.16507092\t<s> d a
-0.0071814717\t<s> a b
-0.031376954\td a b

\\end\\
""",
)


@pytest.mark.parametrize(
    "case", [TOY0, TOY1, LMPLZ_HAND, QUIRK, TRIGRAM], ids=["toy0", "toy1", "hand", "quirk", "trigram"]
)
def test_same_model_as_lmplz(tmp_path, case):
    sentences, order, reference = case
    (tmp_path / "ref.arpa").write_text(reference)
    stats = write_arpa(sentences, tmp_path / "ours.arpa", order=order)
    ref_order, ref_probs, ref_backoffs = read_arpa(tmp_path / "ref.arpa")
    our_order, our_probs, our_backoffs = read_arpa(tmp_path / "ours.arpa")
    assert our_order == ref_order == order
    assert set(our_probs) == set(ref_probs)
    for gram, value in ref_probs.items():
        assert our_probs[gram] == pytest.approx(value, abs=1e-6), gram
        assert our_backoffs.get(gram, 0.0) == pytest.approx(ref_backoffs.get(gram, 0.0), abs=1e-6), gram
    if case is QUIRK:
        assert stats["counts_of_counts"][0] == [1, 1, 1, 1]
        assert stats["discounts"][0] == pytest.approx([1 / 3, 1.0, 5 / 3])
    if case in (TOY0, TOY1):
        assert stats["fallback"] == [1, 2, 3]  # why KenLM made them with --discount_fallback
    if case is TRIGRAM:
        assert stats["fallback"] == []
        assert stats["discounts"] == [pytest.approx(d) for d in ([0.5, 0.5, 3], [0.6, 0.2, 3], [0.2, 1.7, 3])]


def corpus(seed: int, n: int = 120) -> list[str]:
    """Zipf-distributed words (Bengali, to exercise UTF-8 end to end), some empty sentences."""
    words = ["আমি", "তুমি", "সে", "ভাত", "খাই", "বই", "পড়ি", "স্কুলে", "যাই", "আজ", "কাল", "ঢাকা", "নদী", "গান", "শুনি"]
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(words))]
    return [" ".join(rng.choices(words, weights, k=rng.randint(0, 7))) for _ in range(n)]


@pytest.mark.parametrize("order", [2, 3, 4])
def test_every_context_sums_to_one(tmp_path, order):
    sentences = corpus(order)
    stats = write_arpa(sentences, tmp_path / "lm.arpa", order=order)
    lm = ArpaLM(tmp_path / "lm.arpa")
    predicted = sorted(lm.vocab - {"<s>"})  # the words, </s> and <unk>; <s> is never predicted
    models, _ = estimate(sentences, order)
    contexts = [gram for level in models[:-1] for gram in level if gram[-1] not in (EOS, "<unk>")]
    contexts += [
        (),
        ("কখনো",),
        ("<s>", "কখনো"),
        ("নদী", "নদী", "নদী"),
    ]  # unseen and out-of-vocabulary histories
    assert len(contexts) > 15
    for context in contexts:
        total = sum(10 ** lm.logprob(w, context) for w in predicted)
        assert total == pytest.approx(1.0, abs=1e-4), context
    assert stats["vocab"] == len(predicted)


def kenlm_score(model: KenLM, dictionary: Dictionary, sentence: str) -> float:
    state = model.start(False)  # <s>
    total = 0.0
    for word in sentence.split():
        state, score = model.score(state, dictionary.get_index(word))
        total += score
    _, score = model.finish(state)  # </s>
    return total + score


def test_kenlm_query_agrees(tmp_path):
    sentences = corpus(7, n=200)
    write_arpa(sentences, tmp_path / "lm.arpa", order=3)
    ours = ArpaLM(tmp_path / "lm.arpa")
    dictionary = Dictionary([*sorted(ours.vocab - {"<s>", "</s>"}), "অজানা"])  # + a word the LM never saw
    kenlm = KenLM(str(tmp_path / "lm.arpa"), dictionary)
    # flashlight's KenLM.score is KenLM's log10 (not ln): the first word's score is the ARPA's own number
    _, first = kenlm.score(kenlm.start(False), dictionary.get_index("আমি"))
    assert first == pytest.approx(ours.logprob("আমি", ["<s>"]), abs=1e-5)
    probes = [*sentences[:40], "আমি অজানা বই পড়ি", "নদী নদী নদী গান", "অজানা", "", "গান শুনি আমি ঢাকা কাল"]
    for sentence in probes:
        assert kenlm_score(kenlm, dictionary, sentence) == pytest.approx(ours.score(sentence), abs=1e-4), (
            sentence
        )


def test_format_and_errors(tmp_path):
    write_arpa(["x y", "x"], tmp_path / "lm.arpa", order=2)
    text = (tmp_path / "lm.arpa").read_text()
    assert text.startswith("\\data\\\nngram 1=5\nngram 2=4\n\n\\1-grams:\n")
    assert "0\t<s>\t" in text and text.endswith("\\end\\\n")  # <s>: probability 1 (log 0), as lmplz
    assert all(line.count("\t") in (1, 2) for line in text.splitlines() if line[:1] and line[0] in "-0")
    # an empty sentence is "<s> </s>", as an empty line is to lmplz
    models, _ = estimate(["", "x"], 2)
    assert ("<s>", EOS) in models[1]
    with pytest.raises(ValueError, match=r"sentence 2 contains the reserved word '<unk>'"):
        write_arpa(["a", "b <unk>"], tmp_path / "bad.arpa")
    with pytest.raises(ValueError, match="no sentences"):
        write_arpa([], tmp_path / "bad.arpa")
    with pytest.raises(ValueError, match="order must be a positive integer"):
        write_arpa(["a"], tmp_path / "bad.arpa", order=0)
    broken = text.replace("ngram 2=4", "ngram 2=5")
    (tmp_path / "broken.arpa").write_text(broken)
    with pytest.raises(ValueError, match=r"broken.arpa: \\data\\ declares 5 2-grams but the file has 4"):
        read_arpa(tmp_path / "broken.arpa")
    (tmp_path / "junk.arpa").write_text(text.replace("\\2-grams:\n", "\\2-grams:\nnot-a-number\tx y\n"))
    with pytest.raises(ValueError, match=r"junk.arpa: line \d+: the probability or back-off is not a number"):
        read_arpa(tmp_path / "junk.arpa")


def test_read_unigrams_stops_at_the_bigrams_and_checks_the_header(tmp_path):
    write_arpa(["x y", "x z z"], tmp_path / "lm.arpa", order=3)
    order, probs, _ = read_arpa(tmp_path / "lm.arpa")
    found_order, counts, words = read_unigrams(tmp_path / "lm.arpa")
    assert found_order == order == 3 and sorted(words) == ["x", "y", "z"]
    assert counts == [sum(1 for g in probs if len(g) == n) for n in (1, 2, 3)]
    text = (tmp_path / "lm.arpa").read_text()
    # only the header and the unigrams are read: a broken trigram section does not matter here
    (tmp_path / "tail.arpa").write_text(text.replace("\\3-grams:\n", "\\3-grams:\nnot-a-number\tx y z\n"))
    assert read_unigrams(tmp_path / "tail.arpa")[2] == words
    (tmp_path / "short.arpa").write_text(text.replace("ngram 1=6", "ngram 1=7"))
    with pytest.raises(ValueError, match=r"short.arpa: \\data\\ declares 7 1-grams but the file has 6$"):
        read_unigrams(tmp_path / "short.arpa")
    (tmp_path / "words.txt").write_text("x y\nz\n")
    with pytest.raises(ValueError, match=r"words.txt: line 1: not an ARPA file"):
        read_unigrams(tmp_path / "words.txt")
