"""A deterministic Jigsaw sample in the Kaggle layout, with the unintended bias built in.

Every original file and column is written, with the original missing-value pattern: identity columns are
annotated for a minority of rows (NaN elsewhere), ``parent_id`` is empty for top-level comments.
``target`` and the subtypes are fractions of simulated annotators (4 to 10 per comment, a few with many
more), so they are soft labels as in the real data.

The bias: identity words are much more frequent in toxic comments (identity attacks) than in civil ones,
so a classifier trained without weighting learns "identity word => toxic" and ranks civil comments that
mention an identity above toxic comments that do not - a low BPSN AUC. The civil identity comments it
needs to unlearn this exist, but are few: the metric-aligned weights of the book (§6.5.1) up-weight them.
Some toxic comments carry no swear word at all (sarcasm, dismissal), so the identity shortcut pays off
on the overall AUC, as it did in the competition.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from jigsaw.data import IDENTITY_COLUMNS, LABELLED_TEST_COLUMNS, SCORED_IDENTITIES, SUBTYPES, TRAIN_COLUMNS

# Words that mention each identity (the nine scored identities get most mentions, as in the test set).
IDENTITY_WORDS = {
    "male": ["men", "man", "guys"],
    "female": ["women", "woman", "girls"],
    "homosexual_gay_or_lesbian": ["gay", "lesbian", "gays"],
    "christian": ["christian", "christians", "catholic"],
    "jewish": ["jewish", "jews"],
    "muslim": ["muslim", "muslims", "islam"],
    "black": ["black", "blacks"],
    "white": ["white", "whites"],
    "psychiatric_or_mental_illness": ["mentally ill", "mental illness", "crazy people"],
    "transgender": ["transgender", "trans"],
    "asian": ["asian", "asians"],
    "latino": ["latino", "hispanic"],
    "atheist": ["atheist", "atheists"],
    "hindu": ["hindu"],
    "buddhist": ["buddhist"],
    "physical_disability": ["disabled", "in a wheelchair"],
}
TOPICS = ["the city council", "the new budget", "the pipeline", "the school board", "the governor", "this article",
          "the election", "the tax plan", "the editorial", "the mayor", "the housing bill", "the referendum",
          "the transit plan", "the ferry service", "the hospital", "the police chief", "the senator"]  # fmt: skip
CIVIL = [
    "I think {topic} makes a fair point.", "Thanks for the thoughtful piece on {topic}.",
    "Can someone explain what {topic} will cost us?", "I disagree with {topic}, but I respect the argument.",
    "Good reporting on {topic}, keep it up.", "The numbers on {topic} do not add up to me.",
    "We should wait for more facts about {topic}.", "I voted for {topic} and I would do it again.",
    "Interesting, I had not heard about {topic} before.", "My family has followed {topic} for years.",
]  # fmt: skip
CIVIL_IDENTITY = [
    "As one of the {who} in this town, I support {topic}.", "Many {who} I know agree with {topic}.",
    "The {who} in my neighborhood organized a meeting about {topic}.", "{Who} deserve the same respect as everyone.",
    "My neighbors are {who} and they are wonderful people.", "The article about {who} and {topic} was balanced.",
]  # fmt: skip
INSULTS = ["idiot", "moron", "stupid", "pathetic", "loser", "clown", "fool", "ignorant", "dumb", "hypocrite"]
OBSCENE = ["damn", "crap", "hell", "sucks", "screw"]
THREATS = [
    "someone should shut you up for good",
    "watch your back",
    "you will regret this",
    "people like you should disappear",
]
SEXUAL = ["sexual", "porn", "sleazy"]
TOXIC = [
    "You are a {insult} if you believe {topic}.", "What a {insult} take on {topic}.", "Only a {insult} would write this.",
    "{Topic} is run by {insult}s.", "Shut up, you {insult}.", "This is {obscene} and so are you, {insult}.",
]  # fmt: skip
IDENTITY_ATTACK = [
    "{Who} are ruining {topic}.", "Typical {who}, always whining about {topic}.", "{Who} should not be allowed near {topic}.",
    "I am sick of {who} and their agenda.", "Of course {who} would support {topic}, they always do.",
    "{Who} are {insult}s, every single one.",
]  # fmt: skip
SUBTLE_TOXIC = [
    "Nobody cares what you think about {topic}.", "Go back under your rock.", "People like you are the problem with {topic}.",
    "Keep telling yourself that.", "Your opinion on {topic} is worthless.",
]  # fmt: skip

BORDERLINE = [
    "What the {obscene} is going on here.",
    "This whole thing {obscene}s.",
    "Oh {obscene}, not again.",
]
# Range of the per-annotator probability of a "toxic" vote, by kind of comment (civil: a Beta near 0).
PROBABILITY_RANGE = {"civil": (0.0, 0.0), "borderline": (0.15, 0.6), "subtle": (0.4, 0.75), "insult": (0.6, 0.95),
                     "attack": (0.6, 0.95), "threat": (0.75, 0.98)}  # fmt: skip


def _annotator_fraction(rng: np.random.Generator, p: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Share of ``counts`` annotators who say yes when each says yes with probability ``p``."""
    return rng.binomial(counts, np.clip(p, 0.0, 1.0)) / counts


def _fill(template: str, rng: np.random.Generator, who: str | None) -> str:
    topic = TOPICS[rng.integers(len(TOPICS))]
    insult = INSULTS[rng.integers(len(INSULTS))]
    obscene = OBSCENE[rng.integers(len(OBSCENE))]
    who = who or "people"
    return template.format(topic=topic, Topic=topic[0].upper() + topic[1:], insult=insult, obscene=obscene,
                           who=who, Who=who[0].upper() + who[1:])  # fmt: skip


def _identity_weights() -> tuple[list[str], np.ndarray]:
    names = list(IDENTITY_WORDS)
    weights = np.array([4.0 if n in SCORED_IDENTITIES else 1.0 for n in names])
    return names, weights / weights.sum()


def generate_comments(n: int, rng: np.random.Generator, *, toxic_rate: float = 0.1) -> pd.DataFrame:
    """Comments with their labels: ``target``, subtypes and identity memberships (before annotation)."""
    names, identity_p = _identity_weights()
    toxic = rng.random(n) < toxic_rate
    civil_kind = np.where(rng.random(n) < 0.12, "borderline", "civil")
    kind = np.where(
        toxic, rng.choice(["attack", "insult", "subtle", "threat"], n, p=[0.35, 0.4, 0.15, 0.1]), civil_kind
    )
    # Identity mentions: all identity attacks, some insults, few civil comments - the unintended bias.
    mentions = np.where(kind == "attack", True, rng.random(n) < np.where(toxic, 0.25, 0.08))
    texts, member = [], np.zeros((n, len(IDENTITY_COLUMNS)))
    subtype = {k: np.zeros(n) for k in SUBTYPES}
    for i in range(n):
        who = None
        if mentions[i]:
            identity = names[rng.choice(len(names), p=identity_p)]
            member[i, IDENTITY_COLUMNS.index(identity)] = 1.0
            words = IDENTITY_WORDS[identity]
            who = words[rng.integers(len(words))]
        sentences = [_fill(CIVIL[rng.integers(len(CIVIL))], rng, None) for _ in range(rng.integers(0, 3))]
        if kind[i] in ("civil", "borderline"):
            pool = CIVIL_IDENTITY if who else CIVIL
            sentences.append(_fill(pool[rng.integers(len(pool))], rng, who))
            if kind[i] == "borderline":  # rude word, no target: annotators split
                sentences.append(
                    BORDERLINE[rng.integers(len(BORDERLINE))].format(
                        obscene=OBSCENE[rng.integers(len(OBSCENE))]
                    )
                )
        elif kind[i] == "attack":
            sentences.append(_fill(IDENTITY_ATTACK[rng.integers(len(IDENTITY_ATTACK))], rng, who))
            subtype["identity_attack"][i] = 0.8
            subtype["insult"][i] = 0.4
        elif kind[i] == "insult":
            sentence = _fill(TOXIC[rng.integers(len(TOXIC))], rng, None)
            if who:
                sentence += " " + _fill(CIVIL_IDENTITY[rng.integers(len(CIVIL_IDENTITY))], rng, who)
            sentences.append(sentence)
            subtype["insult"][i] = 0.8
            subtype["obscene"][i] = 0.5 if any(w in sentence for w in OBSCENE) else 0.05
            if rng.random() < 0.1:
                sentences.append(f"So {SEXUAL[rng.integers(len(SEXUAL))]}.")
                subtype["sexual_explicit"][i] = 0.6
        elif kind[i] == "subtle":
            sentences.append(_fill(SUBTLE_TOXIC[rng.integers(len(SUBTLE_TOXIC))], rng, None))
            subtype["insult"][i] = 0.5
        else:
            sentences.append(THREATS[rng.integers(len(THREATS))].capitalize() + ".")
            subtype["threat"][i] = 0.8
            subtype["severe_toxicity"][i] = 0.3
        rng.shuffle(sentences)
        texts.append(" ".join(sentences))
    annotators = np.where(rng.random(n) < 0.03, rng.integers(10, 1000, n), rng.integers(4, 11, n))
    # How toxic annotators find each kind: the fraction carries intensity that target >= 0.5 throws away.
    low, high = np.array([PROBABILITY_RANGE[k] for k in kind]).T
    p_toxic = np.where(kind == "civil", rng.beta(0.5, 6.0, n) * 0.9, rng.uniform(low, high))
    frame = pd.DataFrame({"comment_text": texts, "target": _annotator_fraction(rng, p_toxic, annotators)})
    for col, p in subtype.items():
        frame[col] = _annotator_fraction(rng, p * toxic, annotators)
    frame["toxicity_annotator_count"] = annotators
    # Identity annotation: a minority of rows, more often those that mention an identity (as in Kaggle).
    annotated = rng.random(n) < np.where(mentions, 0.6, 0.15)
    identity_raters = rng.integers(4, 11, n)
    for j, col in enumerate(IDENTITY_COLUMNS):
        share = _annotator_fraction(rng, np.where(member[:, j] > 0, 0.85, 0.01), identity_raters)
        frame[col] = np.where(annotated, share, np.nan)
    frame["identity_annotator_count"] = np.where(annotated, identity_raters, 0)
    return frame


def _metadata(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(frame)
    start = pd.Timestamp("2015-09-29", tz="UTC").value // 10**9
    seconds = rng.integers(start, start + 600 * 86400, n)
    frame["created_date"] = pd.to_datetime(seconds, unit="s", utc=True).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    frame["publication_id"] = rng.choice([6, 13, 21, 54, 55, 102], n)
    frame["parent_id"] = np.where(
        rng.random(n) < 0.45, rng.integers(1_000_000, 6_000_000, n).astype(float), np.nan
    )
    frame["article_id"] = rng.integers(2_000, 400_000, n)
    frame["rating"] = np.where(rng.random(n) < 0.08 + 0.5 * (frame["target"] >= 0.5), "rejected", "approved")
    for col in ["funny", "wow", "sad", "likes", "disagree"]:
        frame[col] = rng.poisson(1.0 if col == "likes" else 0.2, n)
    return frame


def make_sample(out: str | Path, *, n_train: int = 20_000, n_test: int = 5_000, seed: int = 0) -> Path:
    """Write train.csv, test.csv, sample_submission.csv and both labelled test files into ``out``."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = _metadata(generate_comments(n_train + 2 * n_test, rng), rng)
    frame.insert(0, "id", np.arange(239_000, 239_000 + len(frame)) * 7 + rng.integers(0, 7, len(frame)))
    train, public, private = (
        frame.iloc[:n_train],
        frame.iloc[n_train : n_train + n_test],
        frame.iloc[n_train + n_test :],
    )
    train[TRAIN_COLUMNS].to_csv(out / "train.csv", index=False)
    public[["id", "comment_text"]].to_csv(out / "test.csv", index=False)
    pd.DataFrame({"id": public["id"], "prediction": 0.0}).to_csv(out / "sample_submission.csv", index=False)
    for name, part in (("public", public), ("private", private)):
        labelled = part.rename(columns={"target": "toxicity"})
        labelled[LABELLED_TEST_COLUMNS].to_csv(out / f"test_{name}_expanded.csv", index=False)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic Jigsaw Unintended Bias sample in the Kaggle layout."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument(
        "--n-test", type=int, default=5_000, help="rows of test.csv and of the private test each"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = make_sample(args.out, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    print(f"wrote the Jigsaw sample to {out}")
