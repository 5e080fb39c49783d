"""The classic baseline of arena-preference competitions, before any LLM: a logistic regression on the
difference between the two responses' features (§12.5).

Each response is described by its character n-gram TF-IDF vector (which script it is written in, its
formatting marks, frequent words) and by length features (log characters, log words, lines, list lines);
the model sees ``features(A) - features(B)``, so it learns "longer wins" (the verbosity bias of human raters)
and which kinds of text win, but not whether a response fits its prompt (the prompt is not read). Trained on
both orders of every pair (label flipped), so it has no position bias to learn. Fits in seconds on CPU.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

FILE = "baseline.pkl"
LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s", re.MULTILINE)


def length_features(texts: pd.Series) -> np.ndarray:
    """(n, 4): log(1 + characters), log(1 + words), log(1 + lines), log(1 + list lines)."""
    t = texts.fillna("")
    return np.log1p(np.column_stack([
        t.str.len(), t.str.split().str.len(), t.str.count("\n") + 1, t.map(lambda s: len(LIST_LINE.findall(s))),
    ]).astype(float))  # fmt: skip


class FeatureBaseline:
    """TF-IDF and length difference features under a logistic regression (module docstring)."""

    def __init__(self, max_features: int = 20000, c: float = 1.0, seed: int = 0):
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), max_features=max_features,
                                          sublinear_tf=True, dtype=np.float32)  # fmt: skip
        self.model = LogisticRegression(C=c, max_iter=2000, random_state=seed)

    def _difference(self, frame: pd.DataFrame, swap: bool = False) -> sp.csr_matrix:
        a, b = ("response_b", "response_a") if swap else ("response_a", "response_b")
        text = self.vectorizer.transform(frame[a].fillna("")) - self.vectorizer.transform(frame[b].fillna(""))
        lengths = length_features(frame[a]) - length_features(frame[b])
        return sp.hstack([text, sp.csr_matrix(lengths)]).tocsr()

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> FeatureBaseline:
        """``y``: 0 where A won. Each pair is seen in both orders."""
        self.vectorizer.fit(pd.concat([frame["response_a"], frame["response_b"]]).fillna(""))
        x = sp.vstack([self._difference(frame), self._difference(frame, swap=True)])
        self.model.fit(x, np.concatenate([y, 1 - y]))
        return self

    def predict(self, frame: pd.DataFrame, swap: bool = False) -> np.ndarray:
        """p(A wins) per row (of the swapped pair with ``swap``)."""
        return self.model.predict_proba(self._difference(frame, swap))[:, 0]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / FILE).write_bytes(pickle.dumps(self))

    @staticmethod
    def load(directory: Path) -> FeatureBaseline:
        """The baseline :meth:`save` wrote (a pickle of this run's own objects, not a download)."""
        return pickle.loads((directory / FILE).read_bytes())
