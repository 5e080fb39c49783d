"""Load and validate the PII Data Detection files; a broken document stops with a one-line error.

Kaggle layout: ``train.json`` (6,807 essays) and ``test.json`` are JSON lists of documents
``{document, full_text, tokens, trailing_whitespace, labels}`` (test without ``labels``); ``tokens`` and
``trailing_whitespace`` are spaCy's English tokenisation of ``full_text``. ``sample_submission.csv`` has
one row per predicted non-'O' token: ``row_id, document, token, label``. External data sets in the same
JSON layout were widely mixed into training; a recipe names them (``extra``). The generated sample also
writes ``test_labels.json`` (the test documents with labels) so that a run can score its test predictions.

Every labelled token is checked, because a single misaligned document silently corrupts the sub-word
labels built from character offsets. ``on_error="skip"`` drops bad documents instead of stopping, and
returns every skip with its reason so that nothing disappears silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import pandas as pd

from pii.labels import LABELS

TEXT_FIELDS = ("document", "full_text", "tokens", "trailing_whitespace")
# The public external sets (nbroad's Mixtral essays, mpware's) carry what the competition's files never do: a
# username or email split over several spaCy tokens (I-USERNAME, I-EMAIL; the 13 labels have no I- for these
# single-token types, whose adjacent tokens are separate entities) and string document ids.
EXTERNAL_RELABEL = {"I-USERNAME": "B-USERNAME", "I-EMAIL": "B-EMAIL"}
SUBMISSION_COLUMNS = ["row_id", "document", "token", "label"]
_LABEL_SET = frozenset(LABELS)


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the document and the field."""


@dataclass
class Document:
    """One essay: spaCy tokens, whether a space follows each, and BIO labels (None when unlabelled)."""

    document: int
    full_text: str
    tokens: list[str]
    trailing_whitespace: list[bool]
    labels: list[str] | None = None
    source: str = ""  # the file it came from, so extra data can be told apart from the competition's


class Skipped(NamedTuple):
    """A document left out under ``on_error="skip"``: where it was and why."""

    path: str
    document: int | None  # None when the item has no usable id
    reason: str


@dataclass
class Conversion:
    """What :func:`load_external` changed in one external set: documents given new integer ids (their own was
    not an integer), and tokens relabelled (per original label)."""

    path: str
    renumbered: int = 0
    relabelled: dict[str, int] = field(default_factory=dict)
    first_id: int | None = None  # the first new id, when any was given

    def summary(self) -> str:
        parts = [f"{self.renumbered} documents given integer ids from {self.first_id}"] if self.renumbered else []
        parts += [f"{n} tokens {old} -> {EXTERNAL_RELABEL[old]}" for old, n in self.relabelled.items()]
        return f"{self.path}: " + ("; ".join(parts) if parts else "nothing converted")


@dataclass
class PiiData:
    train: list[Document]
    test: list[Document]
    sample_submission: pd.DataFrame
    extra: dict[str, list[Document]] = field(default_factory=dict)  # name -> documents, recipe order
    test_labels: list[Document] | None = None  # test documents with labels, when the data has them
    skipped: list[Skipped] = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)  # one per external set


def _check_list(value, name: str, kind: type, where: str) -> list:
    if not isinstance(value, list):
        raise DataError(f"{where}: field {name!r} is {type(value).__name__}, expected a list")
    bad = next((i for i, v in enumerate(value) if type(v) is not kind), None)
    if bad is not None:
        raise DataError(
            f"{where}: field {name!r} item {bad} is {type(value[bad]).__name__}, expected {kind.__name__}"
        )
    return value


def _document(item, index: int, path: Path, labelled: bool) -> Document:
    """Validate one JSON item; raise DataError naming the file, the document id and the field."""
    if not isinstance(item, dict):
        raise DataError(f"{path}: item {index} is {type(item).__name__}, expected a JSON object")
    doc_id = item.get("document")
    if type(doc_id) is not int:
        what = "missing" if doc_id is None else f"{doc_id!r}, expected an integer"
        raise DataError(f"{path}: item {index}: field 'document' is {what}")
    where = f"{path}: document {doc_id}"
    required = TEXT_FIELDS + (("labels",) if labelled else ())
    missing = [name for name in required if name not in item]
    if missing:
        raise DataError(f"{where}: missing field {missing[0]!r}")
    text = item["full_text"]
    if not isinstance(text, str):
        raise DataError(f"{where}: field 'full_text' is {type(text).__name__}, expected a string")
    tokens = _check_list(item["tokens"], "tokens", str, where)
    spaces = _check_list(item["trailing_whitespace"], "trailing_whitespace", bool, where)
    if len(spaces) != len(tokens):
        raise DataError(
            f"{where}: field 'trailing_whitespace' has {len(spaces)} items but 'tokens' has {len(tokens)}"
        )
    labels = None
    if labelled:
        labels = _check_list(item["labels"], "labels", str, where)
        if len(labels) != len(tokens):
            raise DataError(f"{where}: field 'labels' has {len(labels)} items but 'tokens' has {len(tokens)}")
        if not _LABEL_SET.issuperset(labels):
            bad = next(i for i, label in enumerate(labels) if label not in _LABEL_SET)
            raise DataError(f"{where}: field 'labels' has unknown label {labels[bad]!r} at token {bad}")
    joined = "".join([t + " " if s else t for t, s in zip(tokens, spaces, strict=True)])
    if joined != text:
        pairs = zip(joined, text, strict=False)
        at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(joined), len(text)))
        raise DataError(
            f"{where}: field 'full_text' differs from the tokens joined with their trailing whitespace "
            f"at character {at} ({text[at : at + 12]!r} vs {joined[at : at + 12]!r})"
        )
    return Document(doc_id, text, tokens, spaces, labels, source=path.name)


def _read_items(path: Path) -> list:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8") as handle:
            items = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(items, list):
        raise DataError(f"{path}: expected a JSON list of documents, got {type(items).__name__}")
    return items


def load_documents(
    path: str | Path, *, labelled: bool, on_error: Literal["raise", "skip"] = "raise", items: list | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Documents of one JSON file in the competition layout, and the documents skipped.

    ``labelled`` requires a valid ``labels`` field (unlabelled files ignore it). With ``on_error="raise"``
    the first bad document raises :class:`DataError`; with ``"skip"`` bad documents (and repeated ids)
    are left out and returned as :class:`Skipped`. A missing or unparsable file always raises. ``items``: the
    file's JSON list already read (and converted, :func:`load_external`).
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error: {on_error!r} is not one of raise | skip")
    path = Path(path)
    items = _read_items(path) if items is None else items
    documents, skipped, seen = [], [], set()
    for index, item in enumerate(items):
        try:
            doc = _document(item, index, path, labelled)
            if doc.document in seen:
                raise DataError(f"{path}: document {doc.document}: field 'document' repeats an earlier id")
        except DataError as err:
            if on_error == "raise":
                raise
            doc_id = item.get("document") if isinstance(item, dict) else None
            skipped.append(Skipped(str(path), doc_id if type(doc_id) is int else None, str(err)))
            continue
        seen.add(doc.document)
        documents.append(doc)
    return documents, skipped


def load_external(path: str | Path, first_id: int, on_error: Literal["raise", "skip"] = "raise"):
    """A labelled external set, converted to the competition's layout before the usual checks: a document whose
    id is not an integer (a string, or missing) gets the next integer from ``first_id`` (file order), and each
    label of :data:`EXTERNAL_RELABEL` becomes its B- label. Returns (documents, skipped, :class:`Conversion`)."""
    path = Path(path)
    conversion = Conversion(str(path))
    items, next_id = [], first_id
    for item in _read_items(path):
        if isinstance(item, dict):
            item = dict(item)
            if type(item.get("document")) is not int:
                conversion.first_id = first_id
                conversion.renumbered += 1
                item["document"], next_id = next_id, next_id + 1
            labels = item.get("labels")
            if isinstance(labels, list):
                for old in EXTERNAL_RELABEL:
                    count = sum(label == old for label in labels)
                    if count:
                        conversion.relabelled[old] = conversion.relabelled.get(old, 0) + count
                item["labels"] = [EXTERNAL_RELABEL.get(label, label) for label in labels]
        items.append(item)
    docs, skipped = load_documents(path, labelled=True, on_error=on_error, items=items)
    return docs, skipped, conversion


def check_token_rows(frame: pd.DataFrame, docs: list[Document], name: str, labels: frozenset[str],
                     expected: str) -> None:  # fmt: skip
    """Raise DataError naming ``name``, the row and the column unless ``row_id``, ``document`` and ``token``
    hold integers, every ``document`` is one of ``docs``, every ``token`` an index inside that document and
    every ``label`` one of ``labels`` (``expected`` says which, in the message)."""
    for column in ("row_id", "document", "token"):
        if len(frame) and not pd.api.types.is_integer_dtype(frame[column]):
            raise DataError(f"{name}: column {column!r} must hold integers, got {frame[column].dtype}")
    n_tokens = {doc.document: len(doc.tokens) for doc in docs}
    for row, (doc_id, token, label) in enumerate(
        frame[["document", "token", "label"]].itertuples(index=False)
    ):
        if doc_id not in n_tokens:
            raise DataError(f"{name}: column 'document' at row {row} is {doc_id}, not one of the documents")
        if not 0 <= token < n_tokens[doc_id]:
            raise DataError(
                f"{name}: column 'token' at row {row} is {token}, outside document {doc_id}'s "
                f"{n_tokens[doc_id]} tokens"
            )
        if label not in labels:
            raise DataError(f"{name}: column 'label' at row {row} is {label!r}, expected {expected}")


def load_sample_submission(path: Path, test: list[Document]) -> pd.DataFrame:
    """``row_id, document, token, label``: every row a test document's token with a known label."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in SUBMISSION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    check_token_rows(frame, test, str(path), _LABEL_SET, "a known label")
    return frame


def _check_test_labels(path: Path, labelled: list[Document], test: list[Document]) -> None:
    by_id = {doc.document: doc for doc in test}
    for doc in labelled:
        if doc.document not in by_id:
            raise DataError(f"{path}: document {doc.document}: field 'document' is not in test.json")
        if doc.tokens != by_id[doc.document].tokens:
            raise DataError(f"{path}: document {doc.document}: field 'tokens' differs from test.json")
    if len(labelled) != len(by_id):
        lacking = next(i for i in by_id if i not in {doc.document for doc in labelled})
        raise DataError(f"{path}: document {lacking} of test.json has no labels here")


def load_competition(
    data_dir: str | Path, extra=(), *, on_error: Literal["raise", "skip"] = "raise"
) -> PiiData:
    """All files of a Kaggle download (or of the generated sample) in ``data_dir``, plus ``extra`` data sets.

    ``extra`` names JSON files in the train layout (relative paths are taken inside ``data_dir``).
    ``on_error`` applies to the labelled training sets (train and extra); the test files always raise,
    since a skipped test document would silently vanish from the submission.
    """
    data_dir = Path(data_dir)
    train, skipped = load_documents(data_dir / "train.json", labelled=True, on_error=on_error)
    test, _ = load_documents(data_dir / "test.json", labelled=False)
    extras, conversions = {}, []
    next_id = 1 + max((doc.document for doc in [*train, *test]), default=-1)
    for name in extra:
        path = Path(name) if Path(name).is_absolute() else data_dir / name
        extras[str(name)], more, conversion = load_external(path, next_id, on_error=on_error)
        next_id += conversion.renumbered
        skipped += more
        conversions.append(conversion)
    test_labels = None
    if (data_dir / "test_labels.json").is_file():
        test_labels, _ = load_documents(data_dir / "test_labels.json", labelled=True)
        _check_test_labels(data_dir / "test_labels.json", test_labels, test)
    return PiiData(
        train=train,
        test=test,
        sample_submission=load_sample_submission(data_dir / "sample_submission.csv", test),
        extra=extras,
        test_labels=test_labels,
        skipped=skipped,
        conversions=conversions,
    )


def label_frame(documents: list[Document]) -> pd.DataFrame:
    """The true labels as ``document, token, label`` rows, one per non-'O' token (what ``pii_fbeta`` scores)."""
    unlabelled = next((doc.document for doc in documents if doc.labels is None), None)
    if unlabelled is not None:
        raise ValueError(f"label_frame: document {unlabelled} has no labels")
    rows = [
        (doc.document, i, label) for doc in documents for i, label in enumerate(doc.labels) if label != "O"
    ]
    return pd.DataFrame(rows, columns=["document", "token", "label"]).astype(
        {"document": "int64", "token": "int64"}
    )
