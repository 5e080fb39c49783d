"""Rules over decoded BIO labels from the top write-ups (§10.6–10.7), each one counted.

A model tuned for F5 over-predicts on purpose; these rules take back the predictions that cannot be
right (an "email" without an @, a lower-case "name") and add the ones a pattern or the rest of the
document makes certain. Each rule is a function ``rule(tokens, trailing_whitespace, labels) ->
(new_labels, n_changed)`` over one document's BIO label ids (``labels.LABELS`` order);
:func:`apply_rules` runs them in order over all documents and counts what each removed (non-'O' -> 'O'),
added ('O' -> non-'O') and relabelled, and, when the documents carry labels, how many of those were
false positives removed, true positives added, and the F5 after the rule.

Two decisions, from the data and the metric:

- Whitespace: every labelled ``\\n`` token in train.json is I-STREET_ADDRESS (an address over two lines
  is one entity), so :func:`whitespace_rule` forces whitespace tokens to 'O' except those between a
  STREET_ADDRESS token and the I-STREET_ADDRESS token continuing it, which become I-STREET_ADDRESS.
- B/I repair: the metric scores each token's full label on its own. A true I- always follows its
  entity, so an I-X after anything but X is wrong unless the token before is a missed entity token;
  :func:`bio_repair_rule` makes it B-X (the model found an entity and B-X is then the likelier truth).
  It runs last, after the rules that add tokens before it. A B-X followed by B-X (two first names
  across one space) is left as two entities: which of B/I is likelier for the second token is exactly
  the model's own choice between P(B-X) and P(I-X), and the metric rewards the likelier label per token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pandas as pd

from pii.data import Document, label_frame
from pii.decode import JOIN_ACROSS_BLANK, blank_tokens, solid_neighbours
from pii.labels import BIO_TO_PLAIN, LABEL2ID, LABELS, O_ID, PLAIN2ID, bio_to_spans
from pii.submission import check_predictions, submission_rows
from shared.metrics import pii_fbeta

Rule = Callable[[Sequence[str], Sequence[bool], np.ndarray], tuple[np.ndarray, int]]

EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
URL_RE = re.compile(r"(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?:[/?#]\S*)?", re.IGNORECASE)
# North American numbers as essays write them: (555) 123-4567, 555.123.4567, +1-555-123-4567x89.
PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+?1|001)[-. ])?"  # not inside a longer number; optional country code
    r"(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}"  # area code, exchange, line
    r"(?: ?(?:x|ext\.?) ?\d{1,5})?(?!\w)"  # optional extension
)
# A US social security number, "123-45-6789": spaCy splits it into five tokens.
SSN_RE = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
# A student or record number on one token: up to 3 letters then 6-12 digits ("A00123456", "204859371").
ID_RE = re.compile(r"[A-Za-z]{0,3}\d{6,12}")
ID_MIN_PHONE_DIGITS = 9  # a bare run of this many digits predicted PHONE_NUM is an ID (1st place)
ID_MAX_CHARS = 25  # an "ID" longer than this is a hash, a DOI or a run-on: not a student's number
URL_MIN_CHARS = 10  # a personal URL shorter than this ("x.com", "a.io") is a site, not a person's page
_INSIDE = np.array([label.startswith("I-") for label in LABELS])
# BIO id -> the B- id of its type ('O' stays 'O').
_BEGIN = np.array([LABEL2ID[f"B-{label[2:]}"] if label != "O" else O_ID for label in LABELS], dtype=np.int64)
_NAME = PLAIN2ID["NAME_STUDENT"]
B_NAME, I_NAME = LABEL2ID["B-NAME_STUDENT"], LABEL2ID["I-NAME_STUDENT"]
B_EMAIL = LABEL2ID["B-EMAIL"]
B_PHONE, I_PHONE = LABEL2ID["B-PHONE_NUM"], LABEL2ID["I-PHONE_NUM"]
_PHONE = PLAIN2ID["PHONE_NUM"]
B_ID, I_ID = LABEL2ID["B-ID_NUM"], LABEL2ID["I-ID_NUM"]
_ID = PLAIN2ID["ID_NUM"]
B_USERNAME = LABEL2ID["B-USERNAME"]
_USERNAME = PLAIN2ID["USERNAME"]


def _changed(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, int]:
    return new, int((old != new).sum())


def _offsets(tokens: Sequence[str], whitespace: Sequence[bool]) -> tuple[str, np.ndarray, np.ndarray]:
    """The document text and each token's character start and end in it."""
    length = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    step = length + np.asarray(whitespace, dtype=np.int64)
    start = np.cumsum(step) - step
    text = "".join(t + " " if ws else t for t, ws in zip(tokens, whitespace, strict=True))
    return text, start, start + length


def _span_text(tokens, whitespace, start: int, end: int) -> str:
    return "".join(tokens[i] + (" " if whitespace[i] and i < end - 1 else "") for i in range(start, end))


def _drop_unless(entity: str, pattern: re.Pattern, tokens, whitespace, labels: np.ndarray) -> np.ndarray:
    """``labels`` with every ``entity`` span whose text does not fully match ``pattern`` set to 'O'."""
    out = labels.copy()
    for span in bio_to_spans(labels):
        if span.entity == entity and not pattern.fullmatch(
            _span_text(tokens, whitespace, span.start, span.end)
        ):
            out[span.start : span.end] = O_ID
    return out


def email_rule(tokens, whitespace, labels, *, add: bool = True) -> tuple[np.ndarray, int]:
    """EMAIL spans that do not look like an email become 'O'; with ``add``, email tokens become B-EMAIL."""
    labels = np.asarray(labels, dtype=np.int64)
    out = _drop_unless("EMAIL", EMAIL_RE, tokens, whitespace, labels)
    if add:
        found = [i for i, token in enumerate(tokens) if "@" in token and EMAIL_RE.fullmatch(token)]
        out[found] = np.where(BIO_TO_PLAIN[out[found]] == PLAIN2ID["EMAIL"], out[found], B_EMAIL)
    return _changed(labels, out)


def url_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """URL_PERSONAL spans whose text is not a URL become 'O'."""
    labels = np.asarray(labels, dtype=np.int64)
    return _changed(labels, _drop_unless("URL_PERSONAL", URL_RE, tokens, whitespace, labels))


def phone_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """Tokens under a phone-number match get B-/I-PHONE_NUM, unless one of them is another entity type.

    A number like "(555) 123-4567" is six spaCy tokens; the match's first token gets B-, the rest I-.
    """
    return _label_matches(PHONE_RE, _PHONE, B_PHONE, I_PHONE, tokens, whitespace, labels)


def _label_matches(pattern: re.Pattern, entity: int, begin: int, inside: int, tokens, whitespace, labels):
    """Tokens under each match of ``pattern`` in the text get ``begin`` (first) / ``inside`` (the rest), unless
    one of them is already another entity type."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    text, start, end = _offsets(tokens, whitespace)
    for match in pattern.finditer(text):
        first = int(np.searchsorted(end, match.start(), side="right"))
        last = int(np.searchsorted(start, match.end(), side="left"))
        plain = BIO_TO_PLAIN[out[first:last]]
        if ((plain == O_ID) | (plain == entity)).all():
            out[first:last] = inside
            out[first] = begin
    return _changed(labels, out)


def phone_to_id_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """A PHONE_NUM span that is one token of :data:`ID_MIN_PHONE_DIGITS` or more bare digits becomes B-ID_NUM: an
    essay writes a phone with separators, an ID as one run (the 1st place's relabelling)."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    for span in bio_to_spans(labels):
        token = tokens[span.start]
        single = span.entity == "PHONE_NUM" and span.end - span.start == 1
        if single and token.isdigit() and len(token) >= ID_MIN_PHONE_DIGITS:
            out[span.start] = B_ID
    return _changed(labels, out)


def ssn_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """Tokens under a social-security-number match (:data:`SSN_RE`) get B-/I-ID_NUM."""
    return _label_matches(SSN_RE, _ID, B_ID, I_ID, tokens, whitespace, labels)


def id_pattern_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """An 'O' token that is a student-number pattern (:data:`ID_RE`) becomes B-ID_NUM; F5 pays for the recall."""
    labels = np.asarray(labels, dtype=np.int64)
    found = np.fromiter((bool(ID_RE.fullmatch(t)) for t in tokens), dtype=bool, count=len(tokens))
    return _changed(labels, np.where(found & (labels == O_ID), B_ID, labels))


def length_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """ID_NUM spans longer than :data:`ID_MAX_CHARS` and URL_PERSONAL spans shorter than :data:`URL_MIN_CHARS`
    characters become 'O'."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    for span in bio_to_spans(labels):
        size = len(_span_text(tokens, whitespace, span.start, span.end))
        if (span.entity == "ID_NUM" and size > ID_MAX_CHARS) or (
            span.entity == "URL_PERSONAL" and size < URL_MIN_CHARS
        ):
            out[span.start : span.end] = O_ID
    return _changed(labels, out)


def username_join_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """A username that spaCy split at a hyphen ("john", "-", "doe99", written without spaces) is one username:
    when either side is predicted USERNAME, both sides and the hyphen become B-USERNAME (each token of this
    single-token type is its own B- in the data's labels)."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    plain = BIO_TO_PLAIN[labels]
    for i in range(1, len(tokens) - 1):
        joined = tokens[i] in ("-", "_") and not whitespace[i - 1] and not whitespace[i]
        if joined and _USERNAME in (plain[i - 1], plain[i + 1]):
            sides = plain[[i - 1, i, i + 1]]
            if ((sides == O_ID) | (sides == _USERNAME)).all():
                out[[i - 1, i, i + 1]] = B_USERNAME
    return _changed(labels, out)


def is_name_like(token: str) -> bool:
    """Title-case letters: an upper-case first letter, no digits, not all capitals ("O'Brien", "Zoë")."""
    core = token.replace("'", "").replace("’", "").replace("-", "")
    return core.isalpha() and token[0].isupper() and not (len(token) > 1 and token[1:].isupper())


def name_format_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """NAME_STUDENT tokens that are not title-case words become 'O'; a hyphen between two name tokens
    (spaCy splits "Smith-Jones") stays."""
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    is_name = BIO_TO_PLAIN[labels] == _NAME
    for i in np.flatnonzero(is_name):
        joiner = tokens[i] == "-" and 0 < i < len(tokens) - 1 and is_name[i - 1] and is_name[i + 1]
        if not (joiner or is_name_like(tokens[i])):
            out[i] = O_ID
    return _changed(labels, out)


def name_propagation_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """Every 'O' token equal to a title-case token predicted NAME_STUDENT elsewhere in the document
    becomes NAME_STUDENT: I- right after a name token, else B-."""
    labels = np.asarray(labels, dtype=np.int64)
    is_name = BIO_TO_PLAIN[labels] == _NAME
    names = {tokens[i] for i in np.flatnonzero(is_name) if is_name_like(tokens[i])}
    if not names:
        return labels, 0
    add = np.fromiter((token in names for token in tokens), dtype=bool, count=len(tokens)) & (labels == O_ID)
    after_name = np.concatenate(([False], (is_name | add)[:-1]))
    out = np.where(add, np.where(after_name, I_NAME, B_NAME), labels)
    return _changed(labels, out)


def whitespace_rule(
    tokens, whitespace, labels, *, join: Sequence[str] = JOIN_ACROSS_BLANK
) -> tuple[np.ndarray, int]:
    """Whitespace tokens become 'O', except those between an X token and the I-X token continuing it,
    for X in ``join``, which become I-X (see the module docstring)."""
    labels = np.asarray(labels, dtype=np.int64)
    blank = blank_tokens(tokens)
    before, after = solid_neighbours(blank)
    left = np.where(before >= 0, labels[np.maximum(before, 0)], O_ID)
    right = np.where(after >= 0, labels[np.maximum(after, 0)], O_ID)
    missing = [entity for entity in join if f"I-{entity}" not in LABEL2ID]
    if missing:
        raise ValueError(f"join: {missing} have no I- label")
    inside = [LABEL2ID[f"I-{entity}"] for entity in join]
    bridge = blank & np.isin(right, inside) & (BIO_TO_PLAIN[left] == BIO_TO_PLAIN[right])
    out = np.where(bridge, right, np.where(blank, O_ID, labels))
    return _changed(labels, out)


def bio_repair_rule(tokens, whitespace, labels) -> tuple[np.ndarray, int]:
    """An I-X that does not follow a B-X or I-X token becomes B-X; B-X B-X stays (module docstring)."""
    labels = np.asarray(labels, dtype=np.int64)
    plain = BIO_TO_PLAIN[labels]
    previous = np.concatenate(([O_ID], plain[:-1]))
    stray = _INSIDE[labels] & (previous != plain)
    return _changed(labels, np.where(stray, _BEGIN[labels], labels))


RULES: dict[str, Rule] = {
    "email": email_rule,
    "phone": phone_rule,
    "phone_to_id": phone_to_id_rule,
    "ssn": ssn_rule,
    "id_pattern": id_pattern_rule,
    "url": url_rule,
    "length": length_rule,
    "username_join": username_join_rule,
    "name_format": name_format_rule,
    "name_propagation": name_propagation_rule,
    "whitespace": whitespace_rule,
    "bio_repair": bio_repair_rule,
}
DEFAULT_RULES = tuple(RULES)


def _rule_name(rule) -> str:
    if isinstance(rule, str):
        return rule
    return getattr(rule.func if isinstance(rule, partial) else rule, "__name__", repr(rule))


def apply_rules(
    docs: list[Document], preds, rules: Sequence[str | Rule] = DEFAULT_RULES, *, beta: float = 5.0
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Run ``rules`` (names in :data:`RULES` or rule functions) in order over every document.

    Returns the new predictions and one row per rule: ``rule, removed, added, relabelled`` (tokens it
    turned non-'O' -> 'O', 'O' -> non-'O', and non-'O' -> another label), plus, when every document has
    labels, ``removed_fp`` (removed tokens whose prediction was wrong), ``removed_tp`` (removed tokens
    whose prediction was right: what the rule cost), ``added_tp`` (added tokens now
    right), ``relabelled_tp`` (relabelled tokens now right) and ``score`` (F-beta after the rule).
    """
    check_predictions(docs, preds)
    unknown = [rule for rule in rules if isinstance(rule, str) and rule not in RULES]
    if unknown:
        raise ValueError(f"rules: unknown rule(s) {unknown}; choose from {list(RULES)}")
    functions = [RULES[rule] if isinstance(rule, str) else rule for rule in rules]
    labelled = bool(docs) and all(doc.labels is not None for doc in docs)
    truth = np.concatenate([[LABEL2ID[label] for label in doc.labels] for doc in docs]) if labelled else None
    truth_frame = label_frame(docs) if labelled else None
    current = [np.asarray(p, dtype=np.int64) for p in preds]
    rows = []
    for rule, function in zip(rules, functions, strict=True):
        updated = [
            function(doc.tokens, doc.trailing_whitespace, p)[0] for doc, p in zip(docs, current, strict=True)
        ]
        old = np.concatenate(current) if docs else np.zeros(0, np.int64)
        new = np.concatenate(updated) if docs else np.zeros(0, np.int64)
        removed = (old != O_ID) & (new == O_ID)
        added = (old == O_ID) & (new != O_ID)
        relabelled = (old != O_ID) & (new != O_ID) & (old != new)
        row = {"rule": _rule_name(rule), "removed": int(removed.sum()), "added": int(added.sum())}
        row["relabelled"] = int(relabelled.sum())
        if labelled:
            row["removed_fp"] = int((removed & (truth != old)).sum())
            row["removed_tp"] = int((removed & (truth == old)).sum())
            row["added_tp"] = int((added & (truth == new)).sum())
            row["relabelled_tp"] = int((relabelled & (truth == new)).sum())
            row["score"] = pii_fbeta(truth_frame, submission_rows(docs, updated), beta=beta)
        rows.append(row)
        current = updated
    return current, pd.DataFrame(rows)
