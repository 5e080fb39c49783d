"""The quick baseline: TF-IDF word n-grams + logistic regression.

Soft targets need no special loss here: binary cross-entropy on a fractional target ``t`` equals a
weighted logistic regression on two copies of each row, labelled 1 with weight ``t`` and 0 with
weight ``1 - t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def fit_predict(
    config, train: pd.DataFrame, weights: np.ndarray, predict_on: dict[str, list[str]], desc: str = ""
) -> dict[str, np.ndarray]:
    """Fit on ``train`` (``comment_text``, ``target``) and return P(toxic) for each named list of texts.
    ``desc`` (the other models' progress-bar name) is not used: a fit takes seconds, the rung's bar is enough."""
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
    return {
        name: model.predict_proba(vectorizer.transform(values))[:, 1] for name, values in predict_on.items()
    }
