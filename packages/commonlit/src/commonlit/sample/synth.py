"""A deterministic CommonLit sample in the Kaggle layout: student summaries of hand-written passages, scored.

The passages (:mod:`commonlit.sample.prompts`, 12 of them, ~230-270 words in 5 paragraphs joined by
``\\r\\n\\r\\n``) each have 6-7 *key points* (a verbatim sentence of the passage plus 2-3 paraphrases) and 3-4
*minor details*. Each summary is written by a simulated student with ability ``z``, effort ``v``, copying
habit ``e`` and error proneness ``n`` (all ``N(0, 1)``):

- it covers ``m ~ Binomial(K, sigmoid(1.6 z + 0.2 v - 0.6 + d_p))`` of this prompt's ``K`` key points
  (``d_p ~ N(0, 0.35)`` the prompt's difficulty), in passage order 80 % of the time; each is pasted
  verbatim with probability ``sigmoid(0.6 e - 1.5 z - 0.3)``, else written as one of its paraphrases;
- it may add minor details (pasted verbatim, ``Poisson(0.4 + 0.4 v)``), generic filler ("This text is
  about ...", ``Poisson(0.6 exp(-0.4 z))``) and, with probability ``sigmoid(-1.8 - 0.6 z)`` (about one
  student in six), one or two *off-target* sentences: a key point of ANOTHER prompt of the same split
  (70 %: a student who confused the texts) or an invented claim about the topic (30 %);
- sentences in the student's own words (paraphrases, filler, off-target) may start with a connector
  ("Also, ..."), and get spelling errors (per word of 4+ letters, rate ``min(0.15, 0.03 exp(-0.9 z +
  0.4 n))``: swapped, dropped or doubled letters, common misspellings) and grammar slips (per sentence,
  rate ``min(0.8, 0.2 exp(-0.9 z + 0.4 n))``: dropped article, verb agreement, their/there, lower-case
  start, missing full stop); pasted sentences are left as they are;
- about 1 % of summaries are empty or one word, about 4 % paste one or two whole paragraphs.

The targets are computed from what was written (:func:`targets`), plus prompt offsets and noise:

- ``content = 3.2 cover + 0.1 min(details, 3) + 0.5 L_on - C0``: ``cover`` the fraction of this prompt's
  key points present, ``L_on = min(1, log1p(words of this prompt's key points and details) / log1p(150))``
  a small length effect; filler and off-target sentences add nothing;
- ``wording = 3.0 own L + 1.5 L - 10 spelling - 1.3 grammar - W0``: ``own`` the share of words not pasted
  from the passage, ``L = min(1, log1p(words) / log1p(150))``, ``spelling`` misspelt words per word,
  ``grammar`` slips per sentence;
- each target then gets a per-prompt offset ``N(0, 0.25)`` (prompts differ in difficulty, as in the
  original) and noise ``0.38 s + 0.16 n_t`` (``s`` a rater impression shared by both targets, ``n_t`` the
  target's own; std 0.41), and is bent smoothly onto a floor (-1.7 for content, -1.9 for wording) as the
  original's scores pile up near their minimum (:func:`soft_floor`).

Ability drives coverage, copying, errors and length together, so the targets correlate at about 0.75
(0.69-0.77 over seeds 0-4; 0.75 in the original), on the original's scale (means ≈ 0, std ≈ 1.1, content
≈ -1.7..3.3, wording ≈ -1.9..3.0). The noise left after the floor is ≈ 0.38 RMSE per target, plus the
unseen prompts' offsets.
A summary-only model sees off-target sentences that read like key points; only the prompt text tells them
apart. The last ``n_test_prompts`` prompts form the test split, unseen in training.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from commonlit.sample.prompts import FILLER, INVENTED, PROMPTS, Prompt

COPY, OWN = "copy", "own"  # a sentence pasted from this passage, or in the student's own words
# Centering constants: make content and wording average about 0 over students (measured on seed 0).
C0, W0 = 1.65, 2.15
NOISE_SHARED, NOISE_OWN = 0.38, 0.16
FLOOR, SHARPNESS = (-1.7, -1.9), 2.5
MISSPELLINGS = {"because": "becuase", "their": "thier", "government": "goverment", "different": "diffrent",
                "really": "realy", "until": "untill", "which": "wich", "people": "poeple", "across": "accross",
                "believe": "belive", "beginning": "begining", "separate": "seperate",
                "environment": "enviroment", "scientists": "sientists", "finally": "finaly"}  # fmt: skip
AGREEMENT = {" was ": " were ", " were ": " was ", " is ": " are ", " are ": " is ", " has ": " have ",
             " have ": " has ", " does ": " do "}  # fmt: skip
CONNECTORS = ("Also, ", "In addition, ", "Another thing is that ", "Then ", "The text also says that ")
# Names (capitalised inside a sentence somewhere in the passages) keep their capital after a connector.
_CAPITALISED = re.findall(r"(?<=[a-z,] )[A-Z][a-z]+", " ".join(p.text for p in PROMPTS))
_NAMES = frozenset(_CAPITALISED) - {"The"} | {"I"}
_WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Student:
    """The latent traits behind one summary."""

    z: float  # ability
    v: float  # effort (longer summaries)
    copy: float  # probability of pasting a key point instead of paraphrasing it
    spelling: float  # per-word misspelling rate in own words
    grammar: float  # per-sentence slip rate in own words


def _student(rng: np.random.Generator) -> Student:
    z, v, habit, n = rng.normal(size=4)
    sigmoid = 1 / (1 + np.exp(-(0.6 * habit - 1.5 * z - 0.3)))
    scale = np.exp(-0.9 * z + 0.4 * n)
    return Student(z, v, float(sigmoid), min(0.15, 0.03 * scale), min(0.8, 0.2 * scale))


def _fill(template: str, prompt: Prompt) -> str:
    topic = prompt.topic
    return template.format(topic=topic, Topic=topic[0].upper() + topic[1:], title=prompt.title)


def _misspell(word: str, rng: np.random.Generator) -> str:
    if word.lower() in MISSPELLINGS and rng.random() < 0.6:
        wrong = MISSPELLINGS[word.lower()]
        return wrong[0].upper() + wrong[1:] if word[0].isupper() else wrong
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two letters
    if kind == 1:
        return word[:i] + word[i + 1 :]  # drop one
    return word[:i] + word[i] + word[i:]  # double one


def _spelling_errors(sentence: str, rate: float, rng: np.random.Generator) -> tuple[str, int]:
    count = 0

    def change(match: re.Match) -> str:
        nonlocal count
        word = match.group()
        if len(word) < 4 or rng.random() >= rate:
            return word
        count += 1
        return _misspell(word, rng)

    return _WORD.sub(change, sentence), count


def _grammar_slip(sentence: str, rng: np.random.Generator) -> str:
    """One slip of a kind the sentence allows (the sentence unchanged when none applies)."""
    options = [s for s in (" the ", " a ") if s in sentence]
    slips = [lambda s, o=o: s.replace(o, " ", 1) for o in options]
    slips += [lambda s, a=a, b=b: s.replace(a, b, 1) for a, b in AGREEMENT.items() if a in sentence][:1]
    if " their " in sentence:
        slips.append(lambda s: s.replace(" their ", " there ", 1))
    slips += [lambda s: s[0].lower() + s[1:], lambda s: s.rstrip(".")]
    return slips[int(rng.integers(len(slips)))](sentence)


def _connect(sentence: str, rng: np.random.Generator) -> str:
    first = _WORD.match(sentence)
    start = sentence if first is None or first.group() in _NAMES else sentence[0].lower() + sentence[1:]
    return CONNECTORS[int(rng.integers(len(CONNECTORS)))] + start


def _plan(prompt: Prompt, others: list[Prompt], st: Student, difficulty: float, rng: np.random.Generator):
    """The summary's sentences as (text, how, source): how COPY | OWN, source key | detail | filler | off."""
    k = len(prompt.key_points)
    p_cover = 1 / (1 + np.exp(-(1.6 * st.z + 0.2 * st.v - 0.6 + difficulty)))
    chosen = rng.choice(k, size=rng.binomial(k, p_cover), replace=False)
    if rng.random() < 0.8:
        chosen = np.sort(chosen)
    plan = []
    for i in chosen:
        if rng.random() < st.copy:
            plan.append((prompt.key_points[i], COPY, "key"))
        else:
            options = prompt.paraphrases[i]
            plan.append((options[int(rng.integers(len(options)))], OWN, "key"))
    n_details = min(rng.poisson(max(0.05, 0.4 + 0.4 * st.v)), len(prompt.details))
    for i in rng.choice(len(prompt.details), size=n_details, replace=False):
        plan.insert(int(rng.integers(len(plan) + 1)), (prompt.details[i], COPY, "detail"))
    if rng.random() < 1 / (1 + np.exp(1.8 + 0.6 * st.z)):
        for _ in range(1 + (rng.random() < 0.35)):
            if others and rng.random() < 0.7:
                other = others[int(rng.integers(len(others)))]
                j = int(rng.integers(len(other.key_points)))
                pool = (other.key_points[j],) if rng.random() < st.copy else other.paraphrases[j]
                sentence = pool[int(rng.integers(len(pool)))]
            else:
                sentence = _fill(INVENTED[int(rng.integers(len(INVENTED)))], prompt)
            plan.insert(int(rng.integers(len(plan) + 1)), (sentence, OWN, "off"))
    for _ in range(min(3, rng.poisson(0.6 * np.exp(-0.4 * st.z)))):
        sentence = _fill(FILLER[int(rng.integers(len(FILLER)))], prompt)
        plan.insert(0 if rng.random() < 0.6 else len(plan), (sentence, OWN, "filler"))
    return plan or [(_fill(FILLER[int(rng.integers(len(FILLER)))], prompt), OWN, "filler")]


def _pasted(prompt: Prompt, rng: np.random.Generator):
    """Whole paragraphs pasted from the passage, maybe after a filler line."""
    first = int(rng.integers(len(prompt.plain_paragraphs)))
    paragraphs = prompt.plain_paragraphs[first : first + 1 + int(rng.random() < 0.3)]
    plan = [(paragraph, COPY, "paste") for paragraph in paragraphs]
    if rng.random() < 0.5:
        plan.insert(0, (_fill(FILLER[0], prompt), OWN, "filler"))
    return plan


def write_summary(prompt: Prompt, others: list[Prompt], st: Student, difficulty: float,
                  rng: np.random.Generator) -> tuple[str, dict]:  # fmt: skip
    """One summary's text and what went into it (the counts the targets are computed from)."""
    kind = rng.random()
    if kind < 0.01:
        word = ("", "idk", "ok", prompt.topic.split()[-1])[rng.integers(4)]
        plan = [(word, OWN, "filler")] if word else []
    elif kind < 0.05:
        plan = _pasted(prompt, rng)
    else:
        plan = _plan(prompt, others, st, difficulty, rng)
    sentences, spelling, grammar = [], 0, 0
    for i, (sentence, how, source) in enumerate(plan):
        if how == OWN:
            if i and source in ("key", "off") and rng.random() < 0.25:
                sentence = _connect(sentence, rng)
            if rng.random() < st.grammar:
                slipped = _grammar_slip(sentence, rng)
                grammar += slipped != sentence
                sentence = slipped
            sentence, n = _spelling_errors(sentence, st.spelling, rng)
            spelling += n
        sentences.append(sentence)
    text = " ".join(sentences)
    if len(sentences) > 3 and rng.random() < 0.15:
        cut = int(rng.integers(1, len(sentences)))
        text = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    pasted_keys = {k for s, _, src in plan if src == "paste" for k in prompt.key_points if k in s}
    pasted_details = {d for s, _, src in plan if src == "paste" for d in prompt.details if d in s}
    n_words = [len(s.split()) for s in sentences]
    on_prompt = sum(
        w for w, (_, _, src) in zip(n_words, plan, strict=True) if src in ("key", "detail", "paste")
    )
    copied = sum(w for w, (_, how, _) in zip(n_words, plan, strict=True) if how == COPY)
    meta = {
        "n_key": sum(src == "key" for _, _, src in plan) + len(pasted_keys),
        "n_key_copied": sum(src == "key" and how == COPY for _, how, src in plan) + len(pasted_keys),
        "n_details": sum(src == "detail" for _, _, src in plan) + len(pasted_details),
        "n_filler": sum(src == "filler" for _, _, src in plan),
        "n_off_target": sum(src == "off" for _, _, src in plan),
        "n_spelling": spelling,
        "n_grammar": grammar,
        "n_sentences": len(sentences),
        "words": len(text.split()),
        "on_prompt_words": on_prompt,
        "copied_words": copied,
    }
    return text, meta


def soft_floor(x: np.ndarray, floor: float) -> np.ndarray:
    """``x`` above the floor, bent smoothly onto it below (the original's scores pile up near their minimum)."""
    return floor + np.logaddexp(0, SHARPNESS * (x - floor)) / SHARPNESS


def targets(meta: pd.DataFrame, n_key_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free content and wording (before the prompt offsets) from what each summary contains."""
    words = meta["words"].to_numpy(float)
    length = np.minimum(1, np.log1p(words) / np.log1p(150))
    on_length = np.minimum(1, np.log1p(meta["on_prompt_words"].to_numpy(float)) / np.log1p(150))
    cover = meta["n_key"].to_numpy(float) / n_key_points
    content = 3.2 * cover + 0.1 * np.minimum(meta["n_details"].to_numpy(float), 3) + 0.5 * on_length - C0
    own = np.where(words > 0, 1 - meta["copied_words"].to_numpy(float) / np.maximum(words, 1), 0)
    spelling = meta["n_spelling"].to_numpy(float) / np.maximum(words, 1)
    grammar = meta["n_grammar"].to_numpy(float) / np.maximum(meta["n_sentences"].to_numpy(float), 1)
    wording = 3.0 * own * length + 1.5 * length - 10 * spelling - 1.3 * grammar - W0
    return content, wording


def split_prompts(n_prompts: int, n_test_prompts: int) -> tuple[list[Prompt], list[Prompt]]:
    """The first ``n_prompts`` hand-written prompts for training, the last ``n_test_prompts`` for test."""
    if n_prompts < 1 or n_test_prompts < 1 or n_prompts + n_test_prompts > len(PROMPTS):
        raise ValueError(
            f"n_prompts={n_prompts}, n_test_prompts={n_test_prompts}: need at least 1 of each and at most "
            f"{len(PROMPTS)} in all (the hand-written prompts)"
        )
    return list(PROMPTS[:n_prompts]), list(PROMPTS[len(PROMPTS) - n_test_prompts :])


def _student_ids(n: int, rng: np.random.Generator) -> list[str]:
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids.update(dict.fromkeys(f"{x:012x}" for x in rng.integers(0, 2**48, size=n - len(ids))))
    return list(ids)


def generate(*, n_prompts: int = 8, n_test_prompts: int = 2, per_prompt: int = 250, per_test_prompt: int = 100,
             seed: int = 0) -> tuple[list[Prompt], list[Prompt], pd.DataFrame]:  # fmt: skip
    """Train prompts, test prompts, and one row per summary: ``student_id, prompt_id, split, text, content,
    wording`` plus the counts of what each summary contains (``n_key``, ``n_off_target``, ...)."""
    train_prompts, test_prompts = split_prompts(n_prompts, n_test_prompts)
    rng = np.random.default_rng(seed)
    prompts = train_prompts + test_prompts
    difficulty = rng.normal(0, 0.35, size=len(prompts))
    offsets = rng.normal(0, 0.25, size=(len(prompts), 2))
    rows, metas = [], []
    for p, prompt in enumerate(prompts):
        split = "train" if p < len(train_prompts) else "test"
        # a confused student mixes in another prompt of the same split: the test prompts' key points never
        # appear in training summaries (as off-target sentences the models would learn to discount)
        group = train_prompts if split == "train" else test_prompts
        others = [other for other in group if other is not prompt]
        for _ in range(per_prompt if split == "train" else per_test_prompt):
            text, meta = write_summary(prompt, others, _student(rng), difficulty[p], rng)
            rows.append((prompt.prompt_id, split, text, p, len(prompt.key_points)))
            metas.append(meta)
    frame = pd.DataFrame(rows, columns=["prompt_id", "split", "text", "prompt_index", "n_key_points"])
    meta = pd.DataFrame(metas)
    content, wording = targets(meta, frame["n_key_points"].to_numpy())
    shared, own_c, own_w = rng.normal(size=(3, len(frame)))
    index = frame.pop("prompt_index").to_numpy()
    frame["content"] = soft_floor(
        content + offsets[index, 0] + NOISE_SHARED * shared + NOISE_OWN * own_c, FLOOR[0]
    )
    frame["wording"] = soft_floor(
        wording + offsets[index, 1] + NOISE_SHARED * shared + NOISE_OWN * own_w, FLOOR[1]
    )
    frame.insert(0, "student_id", _student_ids(len(frame), rng))
    frame = pd.concat([frame, meta], axis=1)
    return train_prompts, test_prompts, frame.sort_values("student_id", ignore_index=True)


def _prompt_frame(prompts: list[Prompt]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.prompt_id, p.question, p.title, p.text) for p in prompts],
        columns=["prompt_id", "prompt_question", "prompt_title", "prompt_text"],
    )


def make_sample(out_dir: str | Path, *, n_prompts: int = 8, n_test_prompts: int = 2, per_prompt: int = 250,
                per_test_prompt: int = 100, seed: int = 0) -> Path:  # fmt: skip
    """Write the five Kaggle files and ``summaries_test_labels.csv`` into ``out_dir`` (``summaries_train.csv``
    last: its presence marks a complete sample). ``sample_submission.csv`` has the test ids with 0.0."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_prompts, test_prompts, frame = generate(
        n_prompts=n_prompts, n_test_prompts=n_test_prompts, per_prompt=per_prompt,
        per_test_prompt=per_test_prompt, seed=seed,
    )  # fmt: skip
    frame[["content", "wording"]] = frame[["content", "wording"]].round(6)
    test = frame[frame["split"] == "test"]
    train = frame[frame["split"] == "train"]
    csv = {"index": False, "lineterminator": "\n"}
    _prompt_frame(train_prompts).to_csv(out / "prompts_train.csv", **csv)
    _prompt_frame(test_prompts).to_csv(out / "prompts_test.csv", **csv)
    test[["student_id", "prompt_id", "text"]].to_csv(out / "summaries_test.csv", **csv)
    test[["student_id", "content", "wording"]].to_csv(out / "summaries_test_labels.csv", **csv)
    test[["student_id"]].assign(content=0.0, wording=0.0).to_csv(out / "sample_submission.csv", **csv)
    train[["student_id", "prompt_id", "text", "content", "wording"]].to_csv(
        out / "summaries_train.csv", **csv
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic CommonLit Evaluate Student Summaries sample in the Kaggle layout."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-prompt", type=int, default=250, help="summaries per training prompt")
    parser.add_argument("--per-test-prompt", type=int, default=100, help="summaries per test prompt")
    args = parser.parse_args(argv)
    out = make_sample(
        args.out, per_prompt=args.per_prompt, per_test_prompt=args.per_test_prompt, seed=args.seed
    )
    n_train = 8 * args.per_prompt
    print(f"wrote the CommonLit sample to {out}: {n_train} training summaries on 8 prompts, "
          f"{2 * args.per_test_prompt} test summaries on 2 unseen prompts")  # fmt: skip
