"""The quick baseline: TF-IDF word n-grams + logistic regression.

Soft targets need no special loss here: binary cross-entropy on a fractional target ``t`` equals a
weighted logistic regression on two copies of each row, labelled 1 with weight ``t`` and 0 with
weight ``1 - t``.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


class TfidfModel:
    """A fitted vectorizer and logistic regression; saved with joblib (scikit-learn's own persistence)."""

    FILE = "tfidf-lr.joblib"

    def __init__(self, vectorizer: TfidfVectorizer, model: LogisticRegression):
        self.vectorizer, self.model = vectorizer, model

    def predict(self, texts: list[str]) -> np.ndarray:
        """P(toxic) of each text."""
        return self.model.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vectorizer": self.vectorizer, "model": self.model}, directory / self.FILE)

    @classmethod
    def load(cls, directory: Path) -> TfidfModel:
        saved = joblib.load(directory / cls.FILE)
        return cls(saved["vectorizer"], saved["model"])


def fit(
    config, train: pd.DataFrame, weights: np.ndarray, unlabelled: list[str], desc: str = ""
) -> TfidfModel:
    """Fit on ``train`` (``comment_text``, ``target``). ``unlabelled`` (the texts to be predicted, which the LSTM's
    word vectors read) and ``desc`` (the other models' progress-bar name) are not used: a fit takes seconds."""
    texts, target = train["comment_text"].tolist(), train["target"].to_numpy(dtype=np.float64)
    vectorizer = TfidfVectorizer(
        ngram_range=(1, config.tfidf_ngram_max),
        min_df=config.tfidf_min_df,
        max_features=config.tfidf_max_features,
        sublinear_tf=True,
        strip_accents="unicode",
    )
    features = vectorizer.fit_transform(texts)
    if config.soft_targets:
        features = sp.vstack([features, features]).tocsr()
        labels = np.r_[np.ones(len(target)), np.zeros(len(target))]
        sample_weight = np.r_[weights * target, weights * (1.0 - target)]
    else:
        labels, sample_weight = (target >= 0.5).astype(int), weights
    model = LogisticRegression(C=config.lr_c, max_iter=2000)
    model.fit(features, labels, sample_weight=sample_weight)
    return TfidfModel(vectorizer, model)
