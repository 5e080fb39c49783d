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
_INSIDE = np.array([label.startswith("I-") for label in LABELS])
# BIO id -> the B- id of its type ('O' stays 'O').
_BEGIN = np.array([LABEL2ID[f"B-{label[2:]}"] if label != "O" else O_ID for label in LABELS], dtype=np.int64)
_NAME = PLAIN2ID["NAME_STUDENT"]
B_NAME, I_NAME = LABEL2ID["B-NAME_STUDENT"], LABEL2ID["I-NAME_STUDENT"]
B_EMAIL = LABEL2ID["B-EMAIL"]
B_PHONE, I_PHONE = LABEL2ID["B-PHONE_NUM"], LABEL2ID["I-PHONE_NUM"]
_PHONE = PLAIN2ID["PHONE_NUM"]


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
    labels = np.asarray(labels, dtype=np.int64)
    out = labels.copy()
    text, start, end = _offsets(tokens, whitespace)
    for match in PHONE_RE.finditer(text):
        first = int(np.searchsorted(end, match.start(), side="right"))
        last = int(np.searchsorted(start, match.end(), side="left"))
        plain = BIO_TO_PLAIN[out[first:last]]
        if ((plain == O_ID) | (plain == _PHONE)).all():
            out[first:last] = I_PHONE
            out[first] = B_PHONE
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
    "url": url_rule,
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
