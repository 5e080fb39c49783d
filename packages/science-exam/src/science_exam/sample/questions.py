"""Multiple-choice questions about the knowledge base, of four kinds that stress retrieval differently.

- ``lexical``: names the entity and words the attribute as its article does (BM25 finds it);
- ``paraphrase``: describes the entity by its colour, setting and role, and the attribute, in words the
  article does not use (a dense retriever can still match the meaning);
- ``two_hop``: "the founder of the X described one new mineral; in what year ...": one passage names the
  founder, another states the fact about the founder's only discovery (two evidence sentences);
- ``no_retrieval``: a unit of a named quantity, or the one option whose name has the asked family's
  pattern (-ite for minerals, "... River" ...): learnable from the questions alone (no evidence).

The four distractors are values of the same attribute from the entity's siblings first, then from other
entities of its family in the same split, so the options alone say nothing about the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from science_exam.data import LETTERS
from science_exam.sample.families import COLOURS, FAMILIES, TYPE_QUESTIONS, UNIT_QUESTIONS, UNITS
from science_exam.sample.kb import HISTORY, Entity, World

KINDS = ("lexical", "paraphrase", "two_hop", "no_retrieval")
KEEP_ONE = 0.5


@dataclass
class Question:
    """One MCQ with its kind, the evidence sentences it needs and, when it is about one, its entity."""

    prompt: str
    options: list[str]
    answer: str
    kind: str
    evidence: list[str]
    entity: str = ""  # the entity's name, "" for a no-retrieval question


def kind_counts(n: int, mix: tuple[float, float, float, float]) -> dict[str, int]:
    """How many questions of each kind: ``n * mix`` rounded, the rounding error given to ``lexical``."""
    if len(mix) != len(KINDS) or min(mix) < 0 or not np.isclose(sum(mix), 1):
        raise ValueError(
            f"mix={mix}: expected {len(KINDS)} non-negative shares summing to 1 ({', '.join(KINDS)})"
        )
    counts = {kind: round(n * share) for kind, share in zip(KINDS, mix, strict=True)}
    counts["lexical"] += n - sum(counts.values())
    return counts


def _options(answer: str, candidates: list[str], rng: np.random.Generator) -> tuple[list[str], str]:
    """Five distinct options (the answer and the first four distinct candidates) in random order."""
    options = [answer]
    for value in candidates:
        if value not in options:
            options.append(value)
        if len(options) == len(LETTERS):
            break
    if len(options) < len(LETTERS):
        raise ValueError(f"fewer than {len(LETTERS)} distinct values for an option set starting {answer!r}")
    order = rng.permutation(len(LETTERS))
    shuffled = [options[i] for i in order]
    return shuffled, LETTERS[int(np.flatnonzero(order == 0)[0])]


class QuestionWriter:
    """Questions about the entities of one split; distractors come from the same split only."""

    def __init__(self, world: World, pool: list[int], rng: np.random.Generator):
        self.world, self.rng = world, rng
        self.pool = pool
        self.by_family: dict[str, list[int]] = {}
        for i in pool:
            self.by_family.setdefault(world.entities[i].family.key, []).append(i)

    def _candidates(self, entity: Entity, key: str) -> list[str]:
        """Values of ``key`` from the siblings (shuffled), then from the family's other entities in the split."""
        siblings = [i for i in self.world.clusters[entity.cluster] if i != entity.index]
        family = self.by_family[entity.family.key]
        order = [siblings[i] for i in self.rng.permutation(len(siblings))]
        order += [family[i] for i in self.rng.permutation(len(family)) if family[i] not in siblings]
        return [self.world.entities[i].values[key] for i in order]

    def _mcq(self, entity: Entity, key: str, prompt: str, kind: str, evidence: list[str]) -> Question:
        options, answer = _options(entity.values[key], self._candidates(entity, key), self.rng)
        return Question(prompt, options, answer, kind, evidence, entity.name)

    def lexical(self, entity: Entity, key: str) -> Question:
        return self._mcq(entity, key, entity.questions[key], "lexical", [entity.evidence[key]])

    def describe(self, entity: Entity) -> str:
        """The entity in other words: colour, setting and role paraphrased, except that with probability
        ``KEEP_ONE`` one of them keeps the article's words (real paraphrases share a word or two)."""
        family, rng = entity.family, self.rng
        setting, role = family.settings[entity.setting], family.roles[entity.role]
        keep = int(rng.integers(3)) if rng.random() < KEEP_ONE else -1
        colour = entity.colour if keep == 0 else COLOURS[entity.colour]
        if keep == 1:
            return f"{colour} {family.question_noun} {setting[0]} that {role[1]}"
        return f"{colour} {family.question_noun} that {setting[1]} and {role[0] if keep == 2 else role[1]}"

    def paraphrase(self, entity: Entity, key: str) -> Question:
        family = entity.family
        desc = self.describe(entity)
        attribute = next(a for a in family.attributes if a.key == key)
        template = attribute.paraphrases[int(self.rng.integers(len(attribute.paraphrases)))]
        return self._mcq(entity, key, template.format(desc=desc), "paraphrase", [entity.evidence[key]])

    def two_hop(self, entity: Entity, key: str) -> Question:
        person = self.world.persons[entity.person]
        prompt = entity.family.two_hop[key].format(inst=person.institution)
        evidence = [self.world.founding[entity.person], entity.evidence[key]]
        return self._mcq(entity, key, prompt, "two_hop", evidence)

    def no_retrieval(self) -> Question:
        """Half the time a unit question, else "which of these is a <family noun>"."""
        rng = self.rng
        if rng.random() < 0.5 or len(self.by_family) < len(LETTERS):
            quantities = list(UNITS)
            chosen = [quantities[i] for i in rng.choice(len(quantities), len(LETTERS), replace=False)]
            units = [UNITS[q][int(rng.integers(len(UNITS[q])))] for q in chosen]
            template = UNIT_QUESTIONS[int(rng.integers(len(UNIT_QUESTIONS)))]
            options, answer = _options(units[0], units[1:], rng)
            return Question(template.format(quantity=chosen[0]), options, answer, "no_retrieval", [])
        families = [f for f in FAMILIES if f.key in self.by_family]
        order = rng.permutation(len(families))
        names = []
        for i in order:
            members = self.by_family[families[i].key]
            names.append(self.world.entities[members[int(rng.integers(len(members)))]].name)
        template = TYPE_QUESTIONS[int(rng.integers(len(TYPE_QUESTIONS)))]
        options, answer = _options(names[0], names[1:], rng)
        return Question(template.format(noun=families[order[0]].noun), options, answer, "no_retrieval", [])


def _allowed(world: World, kind: str) -> Callable[[Entity], list[str]]:
    """The attributes a question of ``kind`` may ask about an entity."""
    if kind == "lexical":
        return lambda e: [a.key for a in e.family.attributes] + list(HISTORY)
    if kind == "paraphrase":
        return lambda e: list(e.intro)
    # two-hop: "the one <noun> the founder described" must be unique
    return lambda e: ["year", "place"] if len(world.persons[e.person].discoveries) == 1 else []


def _targets(pool: list[int], n: int, allowed, used: set, busy: set, world: World,
             rng: np.random.Generator) -> list[tuple[Entity, str]]:  # fmt: skip
    """``n`` (entity, attribute) pairs never asked before, preferring entities not yet asked about."""
    picks: list[tuple[Entity, str]] = []
    for fresh_only in (True, False):
        for i in rng.permutation(pool):
            if len(picks) == n:
                return picks
            entity = world.entities[int(i)]
            keys = [k for k in allowed(entity) if (entity.index, k) not in used]
            if not keys or (fresh_only and entity.index in busy):
                continue
            key = keys[int(rng.integers(len(keys)))]
            used.add((entity.index, key))
            busy.add(entity.index)
            picks.append((entity, key))
    if len(picks) < n:
        raise ValueError(f"only {len(picks)} of {n} questions possible: increase n_entities")
    return picks


def write_questions(world: World, pool: list[int], counts: dict[str, int],
                    rng: np.random.Generator) -> list[Question]:  # fmt: skip
    """``counts[kind]`` questions of each kind about the entities in ``pool``, shuffled."""
    writer = QuestionWriter(world, pool, rng)
    used: set = set()
    busy: set = set()
    questions: list[Question] = []
    for kind in ("two_hop", "paraphrase", "lexical"):  # the most constrained first
        for entity, key in _targets(pool, counts[kind], _allowed(world, kind), used, busy, world, rng):
            questions.append(getattr(writer, kind)(entity, key))
    questions += [writer.no_retrieval() for _ in range(counts["no_retrieval"])]
    return [questions[i] for i in rng.permutation(len(questions))]
