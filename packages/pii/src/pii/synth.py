"""A deterministic PII sample in the Kaggle layout: reflection essays with Faker-filled PII.

The competition's essays are students' reflections on a design-thinking course (challenge, selection of a
tool such as mind mapping or storytelling, application, insight). Each generated essay is assembled from
templates whose slots are either plain words or entities; the entity values come from Faker (several
locales, so names carry accents) and every value's character span is recorded. The text is tokenised
with ``spacy.blank("en")`` exactly as the original data was, and the BIO labels are given to the tokens
inside each PII span, so a labelled span's text is always the Faker value it was built from
(addresses keep their ``\\n``, which becomes an ``I-STREET_ADDRESS`` token as in the data).

The signal a token classifier can learn, and where it errs as the winners describe:
- student names sit in headers, signatures, "my teammate X" and "my name is X"; the same Faker names
  also appear as cited authors ("According to X (2019)"), instructors ("Professor X") and famous people,
  all labelled 'O'. A model leans on the title-case shape and confuses them; context and rules help.
  As in the real essays, some students write names in lower case or all capitals (:data:`NAME_CASES`,
  about 12 % of the people named), so a "title case only" rule also removes true names.
- personal URLs (portfolio, youtube, github, linkedin) are URL_PERSONAL; public pages (wikipedia, news)
  are 'O'. Emails, phone numbers and addresses follow regular shapes that a regex can back up.
- ID numbers sit next to "student ID"; ISBNs, years, percentages, page and amount numbers are 'O'.
- the imbalance: names are common, emails/URLs/IDs occasional, usernames, phones and addresses rare;
  most essays have no PII at all. Essay lengths are log-normal (~700 spaCy tokens, tail to ~3,000).

``generate`` returns :class:`Essay` objects that keep the entity records (PII and hard negatives) for
tests; ``make_sample`` writes ``train.json``, ``test.json`` (no labels), ``test_labels.json`` (the held-out
labels) and ``sample_submission.csv``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import spacy
from faker import Faker

from pii.data import Document
from pii.labels import spans_to_bio

# --------------------------------------------------------------------------------------------------
# Vocabulary of the essays
# --------------------------------------------------------------------------------------------------
TOOLS = ["mind mapping", "storytelling", "visualization", "the learning launch", "rapid prototyping",
         "journey mapping", "brainstorming", "the value chain analysis", "co-creation", "assumption testing",
         "customer interviews", "empathy maps"]  # fmt: skip
STAKEHOLDERS = ["customers", "users", "employees", "patients", "students", "teachers", "managers", "volunteers",
                "parents", "suppliers", "nurses", "citizens"]  # fmt: skip
ORGS = ["the hospital", "our NGO", "the city library", "a small bakery", "the logistics company", "our school",
        "the municipality", "a start-up", "the bank", "the museum", "our department", "the community center"]  # fmt: skip
PROBLEMS = ["long waiting times", "low engagement", "poor communication between teams", "high staff turnover",
            "a confusing onboarding process", "declining sales", "food waste", "an outdated website",
            "missed appointments", "slow decision making"]  # fmt: skip
BOOKS = ["Designing for Growth", "Change by Design", "The Design of Everyday Things", "Solving Problems with "
         "Design Thinking", "Creative Confidence", "The Art of Innovation", "Sprint"]  # fmt: skip
FAMOUS = ["Steve Jobs", "Albert Einstein", "Tim Brown", "David Kelley", "Jeanne Liedtka", "Tim Ogilvie",
          "Don Norman", "Roger Martin", "Henry Ford", "Marie Curie", "Thomas Edison", "Simon Sinek",
          "Brené Brown", "Elon Musk", "Leonardo da Vinci"]  # fmt: skip
PUBLIC_URLS = ["https://en.wikipedia.org/wiki/Design_thinking", "https://en.wikipedia.org/wiki/Mind_map",
               "https://www.nytimes.com/2019/03/14/business/design-thinking.html", "https://hbr.org/2008/06/design-thinking",
               "https://www.ideo.com/post/design-thinking-defined", "https://www.bbc.com/news/business-38498704",
               "https://www.coursera.org/learn/uva-darden-design-thinking-innovation",
               "https://www.interaction-design.org/literature/topics/design-thinking",
               "https://www.theguardian.com/education/2018/jan/05/creative-thinking-classroom"]  # fmt: skip
TITLES = ["Design Thinking for Innovation Reflection", "Reflection - Visualization", "Storytelling as a Tool",
          "Mind Mapping: My Experience", "Learning Launch Reflection", "Final Assignment: Design Thinking in Practice",
          "Prototyping in a Real Project", "Reflection on Journey Mapping", "Design Thinking Reflection Essay",
          "Applying Design Thinking at Work"]  # fmt: skip
SECTIONS = ["Challenge", "Selection", "Application", "Insight", "Approach", "Introduction", "Background",
            "What I learned", "Conclusion", "Next steps"]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
LOCALES = ["en_US", "en_US", "en_US", "en_GB", "fr_FR", "es_ES", "de_DE", "it_IT", "pt_BR", "en_IN"]

# Body sentences: plain slots only.
BODY = [
    "The challenge I faced was {problem} at {org}.",
    "I chose {tool} because it helps a team see the whole problem at once.",
    "At {org} we had struggled with {problem} for almost {n} years.",
    "We started by talking to {n} {stakeholders} about their daily work.",
    "{Tool} made it easier to share ideas with {stakeholders} who were not part of the project.",
    "In week {week} of the course I tried {tool} for the first time.",
    "The first prototype was very simple, just paper and a few sticky notes.",
    "About {pct}% of the {stakeholders} we interviewed mentioned {problem}.",
    "It was surprising how quickly the {stakeholders} understood the idea once they could see it.",
    "I realized that my assumptions about the {stakeholders} were often wrong.",
    "We organised {n} workshops in {year} and each one changed the design a little.",
    "The budget was limited to ${amount}, so we had to be creative.",
    "{Tool} is not only a technique but also a way of thinking.",
    "Looking back, I would involve the {stakeholders} much earlier in the process.",
    "The team combined {tool} with {tool2} to structure the discussion.",
    "One insight was that {problem} was a symptom rather than the real cause.",
    "We mapped every step of the process on a large wall in {city}.",
    "Some colleagues were sceptical at first, but the results convinced them.",
    "The feedback from {n} {stakeholders} showed that the new process saved time.",
    "This approach reduced {problem} by {pct}% within {n} months.",
    "I learned that listening is more important than presenting solutions.",
    "Our manager asked us to present the results to the board in {month}.",
    "The hardest part was to stay open to ideas that did not fit my plan.",
    "We tested the concept with a small group before rolling it out.",
    "Using {tool} gave everyone a common language.",
    "Next time I will spend more time on the problem definition.",
    "The project started in {month} {year} and lasted {n} weeks.",
    "Visual tools helped us avoid long meetings with no decisions.",
    "The {stakeholders} appreciated being asked for their opinion.",
    "Table {n} in the appendix summarises the {n2} ideas we generated.",
    "We grouped the ideas into {n} themes and voted on the most promising ones.",
    "I think design thinking can be applied to almost any problem at {org}.",
    "Even a café owner in {city} can use these tools to understand customers better.",
    "The naïve version of our idea failed, which taught us a lot.",
    "The most valuable moment was when a participant said the map finally made sense 🙂.",
    "Overall, {tool} turned a vague complaint into a concrete plan.",
]
# Hard negatives: people, links and numbers that are NOT student PII ('O').
NEGATIVE = [
    "According to {cited_author} ({year}), {tool} helps people make sense of complexity.",
    "{cited_last} ({year}) describes {tool} as a way to reduce risk.",
    "In the book {book}, {cited_author} explains why {stakeholders} should be involved early.",
    "As {famous} once said, creativity is just connecting things.",
    "I was inspired by a talk by {famous} about {tool}.",
    "Our instructor, Professor {instructor_last}, reminded us to test our assumptions.",
    "Dr. {instructor} gave us useful feedback on the first prototype.",
    "Thanks to our teacher, {instructor}, for the clear examples.",
    "More background is available at {public_url} for anyone interested.",
    "I read the article {public_url} before the workshop.",
    "The main text on the reading list was ISBN {isbn} in the library catalogue.",
    "The survey had {big} responses, see page {n} of the report.",
]
# PII sentences, by the entity type they carry.
PII = {
    "EMAIL": [
        "If you have questions, contact me at {email} and I will reply.",
        "My email is {email} if you want to see the full prototype.",
    ],
    "PHONE_NUM": [
        "You can reach me at {phone} during the week.",
        "For the interviews, participants could call me at {phone} to book a slot.",
    ],
    "STREET_ADDRESS": [
        "The workshop took place at my home, {address}, on a Saturday.",
        "Please send the feedback forms to {address} by post.",
    ],
    "USERNAME": [
        "My username on the course forum is {username} if you want to comment.",
        "I posted the mind map on Instagram as {username} and got many comments.",
    ],
    "ID_NUM": [
        "My student number is {id_num} for the grading.",
        "Submission for student ID {id_num}, module {n}.",
    ],
    "URL_PERSONAL": [
        "You can see my prototype at {personal_url} and leave feedback.",
        "The video of our session is here: {personal_url} (about {n} minutes).",
        "My portfolio {personal_url} shows the final version.",
    ],
    "NAME_STUDENT": [
        "My teammate {teammate} suggested that we use {tool}.",
        "{teammate} and I interviewed {n} {stakeholders} together.",
        "My name is {student} and I work at {org}.",
        "I, {student_first}, took the role of facilitator.",
        "{teammate_first} drew the first version of the map while I took notes.",
    ],
}
# Probability that an essay carries each kind of PII sentence (the competition's imbalance, made denser).
PII_RATE = {"NAME_STUDENT": 0.1, "URL_PERSONAL": 0.05, "ID_NUM": 0.04, "EMAIL": 0.035, "USERNAME": 0.02,
            "PHONE_NUM": 0.015, "STREET_ADDRESS": 0.015}  # fmt: skip
# How a student or teammate's name is written (per person): the essays are students' own typing.
NAME_CASES = {"title": 0.88, "lower": 0.08, "upper": 0.04}
HEADER_NAME_RATE = 0.2  # essays whose author line names the student
SIGNATURE_RATE = 0.06
NEGATIVE_RATE = 0.45  # essays with at least one hard negative
REFERENCES_RATE = 0.08

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Entity:
    """A span of the text built from a slot: a PII value (``label`` an entity type) or a hard negative
    (``label`` 'O'), with its character and spaCy-token offsets (ends exclusive)."""

    kind: str
    label: str
    value: str
    start: int
    end: int
    token_start: int = -1
    token_end: int = -1


@dataclass
class Essay:
    document: Document
    entities: list[Entity]


class _Person:
    """A student (or other person) whose details are drawn from Faker only when first used."""

    def __init__(self, fake: Faker, rng: np.random.Generator, english: Faker):
        self.fake, self.rng, self.english = fake, rng, english

    @cached_property
    def first(self) -> str:
        return self.fake.first_name()

    @cached_property
    def last(self) -> str:
        last = self.fake.last_name()
        if self.rng.random() < 0.05:
            last = f"{last}-{self.fake.last_name()}"
        return last

    @cached_property
    def full(self) -> str:
        if self.rng.random() < 0.1:
            return f"{self.first} {self.fake.first_name()} {self.last}"
        return f"{self.first} {self.last}"

    @cached_property
    def case(self) -> str:
        """How this person's name is written when a student names them (a key of NAME_CASES)."""
        return str(self.rng.choice(list(NAME_CASES), p=list(NAME_CASES.values())))

    def written(self, name: str) -> str:
        return {"title": name, "lower": name.lower(), "upper": name.upper()}[self.case]

    @cached_property
    def username(self) -> str:
        return self.english.user_name()

    def _ascii(self, name: str) -> str:
        return re.sub(r"[^a-z]", "", name.lower().encode("ascii", "ignore").decode()) or "student"

    @cached_property
    def email(self) -> str:
        domain = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"][self.rng.integers(4)]
        if self.rng.random() < 0.5:
            return self.english.free_email()
        return f"{self._ascii(self.first)}.{self._ascii(self.last)}{self.rng.integers(100)}@{domain}"

    @cached_property
    def phone(self) -> str:
        return self.english.phone_number()

    @cached_property
    def address(self) -> str:
        address = self.english.address()
        return address if self.rng.random() < 0.7 else address.replace("\n", ", ")

    @cached_property
    def id_num(self) -> str:
        pattern = ["#########", "?########", "##########", "??######"][self.rng.integers(4)]
        return self.english.bothify(pattern, letters="ABCDEFGHJKLMNPRSTUVWXYZ")

    @cached_property
    def personal_url(self) -> str:
        name = f"{self._ascii(self.first)}{self._ascii(self.last)}"
        token = self.english.pystr(min_chars=11, max_chars=11)
        choices = [
            f"https://www.youtube.com/watch?v={token}",
            f"https://github.com/{self.username}",
            f"https://www.linkedin.com/in/{self._ascii(self.first)}-{self._ascii(self.last)}-{self.rng.integers(1000, 9999)}",
            f"https://{name}.wixsite.com/portfolio",
            f"https://www.{name}.com",
            f"https://sites.google.com/view/{name}-design",
        ]
        return choices[self.rng.integers(len(choices))]


class EssayWriter:
    """Builds one essay's text piece by piece, recording the spans of entity slots."""

    def __init__(self, rng: np.random.Generator, fakers: list[Faker], english: Faker):
        self.rng, self.fakers, self.english = rng, fakers, english
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[Entity] = []
        self.student = self.person()

    def person(self) -> _Person:
        return _Person(self.fakers[self.rng.integers(len(self.fakers))], self.rng, self.english)

    def pick(self, pool):
        return pool[self.rng.integers(len(pool))]

    def text(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def entity(self, value: str, label: str, kind: str) -> None:
        self.entities.append(Entity(kind, label, value, self.length, self.length + len(value)))
        self.text(value)

    def slot(self, name: str) -> None:
        """Write a slot's value: plain words, a PII entity, or a hard negative (label 'O')."""
        if name in ENTITY_SLOTS:
            value, label = ENTITY_SLOTS[name](self)
            self.entity(value, label, name)
        else:
            self.text(PLAIN_SLOTS[name](self))

    def template(self, template: str) -> None:
        pieces = _SLOT.split(template)
        for i, piece in enumerate(pieces):
            if i % 2:
                self.slot(piece)
            elif piece:
                self.text(piece)

    def sentences(self, templates: list[str]) -> None:
        for j, template in enumerate(templates):
            if j:
                self.text("  " if self.rng.random() < 0.02 else " ")
            self.template(template)


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def _student_name(person: _Person, part: str) -> tuple[str, str]:
    return person.written(getattr(person, part)), "NAME_STUDENT"


# slot name -> (value, label) for the spans recorded as entities (PII, or 'O' for the hard negatives).
ENTITY_SLOTS = {
    "student": lambda w: _student_name(w.student, "full"),
    "student_first": lambda w: _student_name(w.student, "first"),
    "teammate": lambda w: _student_name(w.person(), "full"),
    "teammate_first": lambda w: _student_name(w.person(), "first"),
    "email": lambda w: (w.student.email, "EMAIL"),
    "phone": lambda w: (w.student.phone, "PHONE_NUM"),
    "address": lambda w: (w.student.address, "STREET_ADDRESS"),
    "username": lambda w: (w.student.username, "USERNAME"),
    "id_num": lambda w: (w.student.id_num, "ID_NUM"),
    "personal_url": lambda w: (w.student.personal_url, "URL_PERSONAL"),
    "cited_author": lambda w: (w.person().full, "O"),
    "cited_last": lambda w: (w.person().last, "O"),
    "instructor": lambda w: (w.person().full, "O"),
    "instructor_last": lambda w: (w.person().last, "O"),
    "famous": lambda w: (w.pick(FAMOUS), "O"),
    "public_url": lambda w: (w.pick(PUBLIC_URLS), "O"),
    "isbn": lambda w: (w.english.isbn13(), "O"),
    "big": lambda w: (f"{w.rng.integers(1_000, 90_000):,}", "O"),
}
# slot name -> plain words.
PLAIN_SLOTS = {
    "tool": lambda w: w.pick(TOOLS),
    "Tool": lambda w: _capitalised(w.pick(TOOLS)),
    "tool2": lambda w: w.pick(TOOLS),
    "stakeholders": lambda w: w.pick(STAKEHOLDERS),
    "org": lambda w: w.pick(ORGS),
    "problem": lambda w: w.pick(PROBLEMS),
    "book": lambda w: w.pick(BOOKS),
    "city": lambda w: w.english.city(),
    "month": lambda w: w.pick(MONTHS),
    "n": lambda w: str(w.rng.integers(2, 13)),
    "n2": lambda w: str(w.rng.integers(10, 60)),
    "week": lambda w: str(w.rng.integers(1, 6)),
    "pct": lambda w: str(w.rng.integers(5, 95)),
    "year": lambda w: str(w.rng.integers(1995, 2023)),
    "amount": lambda w: f"{w.rng.integers(1, 50) * 100:,}",
}


def _essay_plan(rng: np.random.Generator) -> tuple[list[str], dict]:
    """Which PII and negative sentences an essay gets, and its body sentences."""
    n_sentences = int(np.clip(round(rng.lognormal(np.log(41), 0.6)), 5, 210))
    order = np.concatenate([rng.permutation(len(BODY)) for _ in range(n_sentences // len(BODY) + 1)])
    body = [BODY[i] for i in order[:n_sentences]]  # each template once before any repeats
    extra = [PII[kind][rng.integers(len(PII[kind]))] for kind, p in PII_RATE.items() if rng.random() < p]
    if rng.random() < NEGATIVE_RATE:
        extra += [NEGATIVE[i] for i in rng.integers(len(NEGATIVE), size=rng.integers(1, 4))]
    for template in extra:
        body.insert(int(rng.integers(len(body) + 1)), template)
    flags = {
        "header_name": rng.random() < HEADER_NAME_RATE,
        "signature": rng.random() < SIGNATURE_RATE,
        "references": rng.random() < REFERENCES_RATE,
    }
    return body, flags


def _write_essay(writer: EssayWriter) -> None:
    rng = writer.rng
    body, flags = _essay_plan(rng)
    title = writer.pick(TITLES)
    if flags["header_name"]:
        header = writer.pick(
            [
                "{title}\n\n{student}\n\n",
                "{student}\n\n{title}\n\n",
                "{title} - {student}\n\n",
                "{title}\n{student}\n{month} {year}\n\n",
                "Name: {student}\n\n{title}\n\n",
            ]
        )
        writer.template(header.replace("{title}", title))
    else:
        writer.text(title + "\n\n")
    n_sections = int(rng.integers(2, 6))
    cuts = np.sort(
        rng.choice(np.arange(1, len(body)), size=min(n_sections - 1, len(body) - 1), replace=False)
    )
    for k, part in enumerate(np.split(np.array(body, dtype=object), cuts)):
        if k:
            writer.text("\n\n")
        if rng.random() < 0.6:
            writer.text(SECTIONS[(k + int(rng.integers(3))) % len(SECTIONS)] + "\n\n")
        paragraphs = np.array_split(part, max(1, len(part) // 6))
        for j, paragraph in enumerate(paragraphs):
            if j:
                writer.text("\n" if rng.random() < 0.15 else "\n\n")
            writer.sentences(list(paragraph))
    if flags["references"]:
        writer.text("\n\nReferences\n\n")
        for j in range(int(rng.integers(1, 4))):
            if j:
                writer.text("\n")
            writer.template("{cited_author} ({year}). {book}. ")
            writer.text(writer.pick(["Harvard Business Press.", "Penguin.", "Wiley.", "O'Reilly."]))
    if flags["signature"]:
        writer.template(
            writer.pick(
                ["\n\n{student}", "\n\nBest regards,\n{student}", "\n\nThank you.\n\n{student}\n{email}"]
            )
        )


def _label_tokens(doc, entities: list[Entity]) -> tuple[list[str], list[Entity]]:
    """BIO labels of spaCy tokens from the entity spans; each span must fall on token boundaries (and an
    email or username on a single token, as in the 13-label data)."""
    labels = ["O"] * len(doc)
    located = []
    for entity in entities:
        span = doc.char_span(entity.start, entity.end)
        if span is None:
            raise RuntimeError(
                f"synth: {entity.kind} {entity.value!r} does not fall on spaCy token boundaries"
            )
        if entity.label != "O":
            labels[span.start : span.end] = spans_to_bio([(entity.label, 0, len(span))], len(span))
        located.append(
            Entity(entity.kind, entity.label, entity.value, entity.start, entity.end, span.start, span.end)
        )
    return labels, located


@cache
def faker_for(locale: str, slot: int) -> Faker:
    """One Faker per slot of LOCALES (building one takes ~0.1 s)."""
    return Faker(locale)


@cache
def _english():
    return spacy.blank("en")


def generate(n: int, *, seed: int = 0, first_id: int = 7) -> list[Essay]:
    """``n`` labelled essays, deterministic for a seed, with increasing document ids from ``first_id``."""
    return build_essays(n, seed, first_id, EssayWriter, _write_essay, LOCALES)


def build_essays(
    n: int, seed: int, first_id: int, writer_class: type[EssayWriter], write, locales: list[str]
) -> list[Essay]:
    """``n`` essays, each ``write(writer_class(rng, fakers, english))``, tokenised and labelled; an essay
    family (this module's, or another such as ``pii.synth_external``) is a writer class and a ``write``."""
    rng = np.random.default_rng(seed)
    fakers = [faker_for(locale, k) for k, locale in enumerate(locales)]
    for k, fake in enumerate(fakers):
        fake.seed_instance(seed * 1_000 + k)  # re-seeded on every call: cached instances stay deterministic
    english = fakers[0]
    nlp = _english()
    ids = first_id + np.cumsum(np.concatenate(([0], rng.integers(1, 6, size=n - 1)))) if n else []
    essays = []
    for doc_id in ids:
        writer = writer_class(rng, fakers, english)
        write(writer)
        text = "".join(writer.parts)
        doc = nlp.make_doc(text)
        labels, entities = _label_tokens(doc, writer.entities)
        starts, lengths, spaces = doc.to_array(["IDX", "LENGTH", "SPACY"]).T.tolist()
        document = Document(
            document=int(doc_id),
            full_text=text,
            tokens=[text[s : s + n] for s, n in zip(starts, lengths, strict=True)],
            trailing_whitespace=[bool(s) for s in spaces],
            labels=labels,
            source="synth",
        )
        essays.append(Essay(document, entities))
    return essays


def write_documents(documents: list[Document], path: Path, *, labelled: bool) -> None:
    """Documents as a JSON list in the competition's layout (``labels`` only when ``labelled``)."""
    items = []
    for doc in documents:
        item = {
            "document": doc.document,
            "full_text": doc.full_text,
            "tokens": doc.tokens,
            "trailing_whitespace": doc.trailing_whitespace,
        }
        if labelled:
            item["labels"] = doc.labels
        items.append(item)
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")


def make_sample(out: str | Path, *, n_train: int = 2_000, n_test: int = 200, seed: int = 0) -> Path:
    """Write train.json, test.json, test_labels.json and sample_submission.csv into ``out``.

    Test documents are drawn at random among all generated ids (as Kaggle's interleave with train's).
    ``sample_submission.csv`` only shows the format: the first two tokens of up to ten test essays.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    documents = [essay.document for essay in generate(n_train + n_test, seed=seed)]
    is_test = np.zeros(len(documents), dtype=bool)
    is_test[np.random.default_rng(seed + 1).choice(len(documents), size=n_test, replace=False)] = True
    train = [doc for doc, t in zip(documents, is_test, strict=True) if not t]
    test = [doc for doc, t in zip(documents, is_test, strict=True) if t]
    write_documents(train, out / "train.json", labelled=True)
    write_documents(test, out / "test.json", labelled=False)
    write_documents(test, out / "test_labels.json", labelled=True)
    rows = [
        (doc.document, token, label)
        for doc in test[:10]
        for token, label in ((0, "B-NAME_STUDENT"), (1, "I-NAME_STUDENT"))
        if token < len(doc.tokens)
    ]
    submission = pd.DataFrame(rows, columns=["document", "token", "label"])
    submission.insert(0, "row_id", np.arange(len(submission)))
    submission.to_csv(out / "sample_submission.csv", index=False)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic PII Data Detection sample in the Kaggle layout."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--n-train", type=int, default=2_000)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = make_sample(args.out, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    print(f"wrote the PII sample to {out}")
