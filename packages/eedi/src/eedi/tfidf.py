"""TF-IDF retrieval baseline: cosine similarity between a query and each misconception name.

Character n-grams within words (``char_wb``) match the shared stems of a question and a misconception
("denominator" / "denominators", "multiplies" / "multiplying") that word n-grams miss. The IDF is learnt
on the documents only, so the index does not depend on which queries are scored. Rows are L2-normalised
by the vectorizer, so the dot product is the cosine.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

MODEL_FILE = "tfidf.pkl"
CONFIG_FILE = "tfidf.json"


class TfidfRetriever:
    def __init__(
        self,
        analyzer: str = "char_wb",
        ngram_range: tuple[int, int] = (3, 5),
        sublinear_tf: bool = True,
        min_df: int = 1,
    ):
        if analyzer not in ("char_wb", "char", "word"):
            raise ValueError(f"tfidf analyzer {analyzer!r}: expected 'char_wb', 'char' or 'word'")
        self.analyzer, self.ngram_range = analyzer, (int(ngram_range[0]), int(ngram_range[1]))
        self.sublinear_tf, self.min_df = sublinear_tf, min_df
        self.vectorizer: TfidfVectorizer | None = None
        self.doc_matrix = None

    def fit(self, docs: Sequence[str]) -> TfidfRetriever:
        docs = list(docs)
        if not docs:
            raise ValueError("tfidf: no documents to fit")
        self.vectorizer = TfidfVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
            lowercase=True,
            dtype=np.float32,
        )
        self.doc_matrix = self.vectorizer.fit_transform(docs)
        return self

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(n_queries, n_docs) float32 cosine similarities."""
        if self.vectorizer is None:
            raise ValueError("tfidf: fit() or load() before scoring")
        q = self.vectorizer.transform(list(queries))
        return np.asarray((q @ self.doc_matrix.T).toarray(), dtype=np.float32)

    def save(self, directory: str | Path) -> Path:
        """The fitted vectorizer and document matrix (a pickle: load only files this code wrote) and the
        settings (json)."""
        if self.vectorizer is None:
            raise ValueError("tfidf: nothing to save, fit() first")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / MODEL_FILE, "wb") as f:
            pickle.dump({"vectorizer": self.vectorizer, "doc_matrix": self.doc_matrix}, f)
        settings = dict(
            analyzer=self.analyzer, ngram_range=list(self.ngram_range), sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
        )  # fmt: skip
        (directory / CONFIG_FILE).write_text(json.dumps(settings, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TfidfRetriever:
        directory = Path(directory)
        for name in (CONFIG_FILE, MODEL_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(
                    f"tfidf: {directory / name} is missing; save() a fitted retriever there"
                )
        settings = json.loads((directory / CONFIG_FILE).read_text())
        retriever = cls(**{**settings, "ngram_range": tuple(settings["ngram_range"])})
        with open(directory / MODEL_FILE, "rb") as f:
            state = pickle.load(f)
        retriever.vectorizer, retriever.doc_matrix = state["vectorizer"], state["doc_matrix"]
        return retriever
