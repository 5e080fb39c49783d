"""A generated *external* data set that differs from the competition sample the way the real ones did.

The top teams mixed in essays that others had written with LLMs (nbroad's Mixtral essays, ~2-4k) and
filled with Faker PII. Those sets were not more of the competition's data: a polished LLM voice instead of
students' reflections, PII in almost every essay instead of in a few, names always in title case, other
e-mail, URL, phone and ID formats, shorter essays and few cited authors. This family reproduces those differences, so
that the ``external-data`` rung asks the real question (does a *shifted* set still help?), not "does more
of the same data help":

============================  ==========================================  =====================================
                              competition sample (``pii.synth``)          this external set
============================  ==========================================  =====================================
voice, layout                 student reflection, section headings        LLM essay: "In today's fast-paced
                                                                          world", "Moreover", "In conclusion"
essays with PII               ~40 %                                       all, often several types
length                        ~700 spaCy tokens, tail to ~3,000           ~250 tokens, little spread
student names                 ~12 % lower case or all caps                title case, some with a middle initial
e-mails                       gmail/yahoo/...: first.last42@gmail.com    university: jsmith@student.<uni>.edu
personal URLs                 youtube, github, linkedin, wix              medium.com/@user, behance, x.com
phones, addresses             US formats                                  UK/Australian formats, one line
ID numbers                    9-10 digits / letters                       STU-2023-04567, A00123456
hard negatives                in ~45 % of essays                          in ~10 % (LLMs rarely cite)
============================  ==========================================  =====================================

The writer and the labelling are ``pii.synth``'s; only the templates and the PII formats are this module's.
"""

from __future__ import annotations

from functools import cached_property

from pii.synth import Essay, EssayWriter, _Person, build_essays

DESCRIPTION = (
    "generated LLM-style essays (pii.synth_external): another template family and voice, ~250 tokens, PII "
    "in every essay, title-case names, university e-mails, UK/Australian phones and addresses, other URL "
    "and ID formats"
)
LOCALES = ["en_GB", "en_AU", "en_US", "en_GB", "en_IE", "en_NZ"]
UNIVERSITIES = ["ox", "unimelb", "ucl", "monash", "tcd", "auckland", "ed", "uq"]
TITLES = ["Harnessing {Tool} to Drive Meaningful Innovation", "Unlocking Creativity Through {Tool}",
          "The Transformative Power of {Tool}", "Reimagining Problem Solving: A Journey With {Tool}",
          "From Insight to Impact: Applying {Tool}", "Navigating Complexity With {Tool}"]  # fmt: skip
INTRO = [
    "In today's fast-paced world, organizations must constantly adapt to remain competitive.",
    "Design thinking has emerged as a powerful framework for tackling complex challenges.",
    "In this reflection, I will explore how {tool} helped our team address {problem} at {org}.",
]
BODY = [
    "Moreover, {tool} fostered a culture of collaboration and open communication among the {stakeholders}.",
    "Furthermore, it enabled us to uncover hidden needs that traditional methods often overlook.",
    "By engaging {n} {stakeholders} early, we gained invaluable insights into their pain points.",
    "This iterative approach allowed us to refine our ideas and deliver a more impactful solution.",
    "Additionally, the process encouraged us to embrace ambiguity rather than fear it.",
    "Ultimately, {tool} empowered the team to move from assumptions to evidence.",
    "It is worth noting that {problem} had persisted at {org} for several years.",
    "Through careful observation, we identified {n} key themes that shaped our prototype.",
    "The experience underscored the importance of empathy in every stage of innovation.",
    "As a result, the {stakeholders} reported a {pct}% improvement in satisfaction.",
    "This holistic perspective ensured that no stakeholder was left behind.",
    "Consequently, our final concept was both feasible and deeply human-centered.",
    "Notably, combining {tool} with {tool2} amplified the strengths of each method.",
    "The journey was not without challenges, yet each setback became a learning opportunity.",
]
OUTRO = [
    "In conclusion, {tool} proved to be an indispensable tool for driving meaningful change.",
    "Overall, this experience has profoundly shaped my approach to problem solving.",
]
NEGATIVE = [
    "As {famous} famously noted, innovation distinguishes between a leader and a follower.",
    "Renowned author {cited_author} highlights the value of rapid experimentation.",
    "For further reading, see {public_url} which offers a comprehensive overview.",
]
PII = {
    "NAME_STUDENT": [
        "Working alongside my colleague {teammate}, I facilitated {n} co-creation sessions.",
        "{teammate} and {teammate} provided thoughtful feedback on our early prototypes.",
        "I, {student}, took responsibility for synthesizing the research findings.",
    ],
    "EMAIL": ["For any inquiries, please feel free to reach me at {email} at any time."],
    "URL_PERSONAL": ["I documented the entire process on my blog at {personal_url} for future reference."],
    "PHONE_NUM": ["Participants could schedule interviews by calling {phone} during office hours."],
    "STREET_ADDRESS": ["The workshops were hosted at {address} over several weekends."],
    "USERNAME": [
        "I shared our progress with peers on the course forum under the handle {username} regularly."
    ],
    "ID_NUM": ["This reflection is submitted under student number {id_num} for assessment."],
}
PII_RATE = {"NAME_STUDENT": 0.6, "EMAIL": 0.35, "URL_PERSONAL": 0.3, "ID_NUM": 0.25, "PHONE_NUM": 0.2,
            "STREET_ADDRESS": 0.2, "USERNAME": 0.15}  # fmt: skip
HEADERS = ["Author: {student}\nCourse: Design Thinking for Innovation\nDate: {month} {day}, {year}\n\n",
           "Submitted by: {student}\nContact: {email}\n\n", "Prepared by {student}\n\n"]  # fmt: skip
HEADER_RATE = 0.6
NEGATIVE_RATE = 0.1


class ExternalPerson(_Person):
    """Someone named in an external essay: title-case names and this family's PII formats."""

    @cached_property
    def full(self) -> str:
        if self.rng.random() < 0.25:
            return f"{self.first} {chr(65 + int(self.rng.integers(26)))}. {self.last}"
        return f"{self.first} {self.last}"

    @cached_property
    def case(self) -> str:
        return "title"

    @cached_property
    def email(self) -> str:
        university = UNIVERSITIES[self.rng.integers(len(UNIVERSITIES))]
        return f"{self._ascii(self.first)[0]}{self._ascii(self.last)}@student.{university}.edu"

    @cached_property
    def username(self) -> str:
        return f"{self._ascii(self.first)}_{self._ascii(self.last)[:6]}{self.rng.integers(10, 99)}"

    @cached_property
    def phone(self) -> str:
        return self.fake.phone_number()

    @cached_property
    def address(self) -> str:
        return self.fake.address().replace("\n", ", ")

    @cached_property
    def id_num(self) -> str:
        pattern = ["STU-20##-#####", "A00######"][self.rng.integers(2)]
        return self.english.numerify(pattern)

    @cached_property
    def personal_url(self) -> str:
        choices = [
            f"https://medium.com/@{self.username}",
            f"https://www.behance.net/{self._ascii(self.first)}{self._ascii(self.last)}",
            f"https://x.com/{self.username}",
        ]
        return choices[self.rng.integers(len(choices))]


class ExternalWriter(EssayWriter):
    """``pii.synth``'s writer with :class:`ExternalPerson` for everyone it names."""

    def person(self) -> ExternalPerson:
        return ExternalPerson(self.fakers[self.rng.integers(len(self.fakers))], self.rng, self.english)

    def slot(self, name: str) -> None:
        if name == "day":
            self.text(str(self.rng.integers(1, 29)))
        else:
            super().slot(name)


def _write_external(writer: ExternalWriter) -> None:
    rng = writer.rng
    if rng.random() < HEADER_RATE:
        writer.template(writer.pick(HEADERS))
    writer.template(writer.pick(TITLES) + "\n\n")
    body = [BODY[i] for i in rng.permutation(len(BODY))[: int(rng.integers(6, len(BODY) + 1))]]
    kinds = [kind for kind, p in PII_RATE.items() if rng.random() < p]
    if not kinds:  # every essay carries PII
        kinds = [writer.pick(list(PII))]
    for kind in kinds:
        body.insert(int(rng.integers(len(body) + 1)), writer.pick(PII[kind]))
    if rng.random() < NEGATIVE_RATE:
        body.insert(int(rng.integers(len(body) + 1)), writer.pick(NEGATIVE))
    paragraphs = [INTRO[: int(rng.integers(2, 4))], *(body[i : i + 4] for i in range(0, len(body), 4)),
                  [writer.pick(OUTRO)]]  # fmt: skip
    for j, paragraph in enumerate(paragraphs):
        if j:
            writer.text("\n\n")
        writer.sentences(paragraph)


def generate_external(n: int, *, seed: int = 1, first_id: int = 7) -> list[Essay]:
    """``n`` labelled external essays, deterministic for a seed, with increasing ids from ``first_id``."""
    return build_essays(n, seed, first_id, ExternalWriter, _write_external, LOCALES)
