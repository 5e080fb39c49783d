"""The synthetic knowledge base: invented entities, their discoverers, and the encyclopaedia articles about them.

Entities come in *clusters* of four siblings of one family with close names (Velorite, Veloralite, ...)
and different values of every attribute, so the articles of a cluster are each other's distractors: same
shape, same words, other numbers. Each entity has a unique (colour, setting, role) descriptor within its
family. An article has 2-4 paragraphs:

1. the descriptor and 1-2 attributes (the facts that paraphrased questions ask about);
2. the discovery sentence (discoverer, year, place), maybe a neutral filler;
3. the remaining attributes and a filler (merged with 2 in some articles);
4. in half the articles, comparisons with siblings ("Velorite is often confused with Veloralite, which is
   harder."), which name another entity and so attract its questions.

Every fact sentence names its entity, so it occurs once in the corpus. Each discoverer has a short
biography with the institution they founded (the first hop of a two-hop question).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from science_exam.sample.families import (
    COMPOUND_SUFFIXES,
    EPITHETS,
    FAMILIES,
    FIRST_NAMES,
    GREEK,
    MINERAL_SUFFIXES,
    PERSON_FACTS,
    PLACE_ENDINGS,
    PLACE_PREFIXES,
    RIVER_SUFFIXES,
    SURNAME_ENDINGS,
    TITLES,
    Family,
)

CLUSTER_SIZE = 4
HISTORY = ("year", "discoverer", "place")
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "st",
          "tr", "th", "sh", "ch", "qu")  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "ae", "ia", "ou")
CODAS = ("", "", "n", "r", "l", "s", "th")


@dataclass
class Person:
    """A discoverer: written ``full`` in articles, titled ``title`` in the corpus."""

    full: str
    title: str
    surname: str
    family: str
    institution: str
    birthplace: str
    active: int  # the first year of the 40 in which their discoveries fall
    discoveries: list[int] = field(default_factory=list)


@dataclass
class Entity:
    """One invented entity, its attribute values and, once written, where each fact is stated."""

    index: int
    family: Family
    name: str  # bare, as an article title or an option ("Velora River")
    cluster: int
    colour: str
    setting: int
    role: int
    values: dict[str, str]  # attribute -> text ("1,210 °C"); also year, discoverer, place
    numbers: dict[str, float]
    person: int = -1
    evidence: dict[str, str] = field(default_factory=dict)  # attribute -> the sentence stating it
    questions: dict[str, str] = field(default_factory=dict)  # attribute -> lexical question for that sentence
    intro: tuple[str, ...] = ()  # attributes stated beside the descriptor

    @property
    def mid(self) -> str:
        """The name inside a sentence ("the Velora River", "velorol")."""
        return f"the {self.name}" if self.family.the else self.name

    @property
    def start(self) -> str:
        """The name at the start of a sentence ("The Velora River", "Velorol")."""
        return self.mid[0].upper() + self.mid[1:]


@dataclass
class World:
    """All entities, persons and clusters, and the corpus written about them."""

    entities: list[Entity]
    persons: list[Person]
    clusters: list[list[int]]
    articles: list[tuple[str, str]] = field(default_factory=list)  # (title, text)
    founding: dict[int, str] = field(default_factory=dict)  # person -> sentence naming their institution


class Namer:
    """Unique invented words from random syllables (no two entities, persons or places share a stem)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def stem(self) -> str:
        while True:
            word = (self._pick(ONSETS) + self._pick(VOWELS) + self._pick(CODAS) + self._pick(ONSETS)
                    + self._pick(VOWELS))  # fmt: skip
            if word not in self.used:
                self.used.add(word)
                return word

    def place(self, prefixed: float = 0.15) -> str:
        word = (self.stem() + self._pick(PLACE_ENDINGS)).capitalize()
        return self._pick(PLACE_PREFIXES) + word if self.rng.random() < prefixed else word


def _names(family: Family, stem: str, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` close names on one stem: the siblings of a cluster."""
    root = stem.capitalize()
    if family.key == "mineral":
        return [root + s for s in rng.choice(MINERAL_SUFFIXES, n, replace=False)]
    if family.key == "star":
        return [f"{g} {root}is" for g in rng.choice(GREEK, n, replace=False)]
    if family.key == "frog":
        return [f"{root}a {e}" for e in rng.choice(EPITHETS, n, replace=False)]
    if family.key == "compound":
        return [stem + s for s in rng.choice(COMPOUND_SUFFIXES, n, replace=False)]
    return [f"{root}{s} River" for s in rng.choice(RIVER_SUFFIXES, n, replace=False)]


def _persons(family: Family, n: int, namer: Namer, rng: np.random.Generator) -> list[Person]:
    persons = []
    for _ in range(n):
        surname = (namer.stem() + SURNAME_ENDINGS[int(rng.integers(len(SURNAME_ENDINGS)))]).capitalize()
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        initial = f"{chr(65 + int(rng.integers(26)))}. " if rng.random() < 0.25 else ""
        title = f"{first} {initial}{surname}"
        prefix = TITLES[int(rng.integers(len(TITLES)))] if rng.random() < 0.2 else ""
        institution = f"{namer.place(prefixed=0.0)} {family.institution}"
        active = int(rng.integers(1720, 1921))
        persons.append(Person(prefix + title, title, surname, family.key, institution, namer.place(), active))
    return persons


def _distinct_values(family: Family, n: int, rng: np.random.Generator) -> list[tuple[dict, dict]]:
    """Attribute values for ``n`` siblings, every attribute different between them."""
    texts: list[dict[str, str]] = [{} for _ in range(n)]
    numbers: list[dict[str, float]] = [{} for _ in range(n)]
    for attribute in family.attributes:
        seen: set[str] = set()
        for i in range(n):
            text, number = attribute.draw(rng)
            while text in seen:
                text, number = attribute.draw(rng)
            seen.add(text)
            texts[i][attribute.key], numbers[i][attribute.key] = text, number
    return list(zip(texts, numbers, strict=True))


def _descriptors(family: Family, n: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """``n`` distinct (role, setting, colour) triples; no (role, setting) pair repeats before all are used,
    since a dense retriever tells roles and settings apart far better than colours."""
    pairs = len(family.roles) * len(family.settings)
    if n > pairs * len(family.colours):
        raise ValueError(f"{n} {family.noun}s: at most {pairs * len(family.colours)} have unique descriptors")
    order = rng.permutation(pairs)
    shift = rng.integers(len(family.colours), size=pairs)
    triples = []
    for i in range(n):
        pair = int(order[i % pairs])
        role, setting = divmod(pair, len(family.settings))
        triples.append((role, setting, int((shift[pair] + i // pairs) % len(family.colours))))
    return triples


def build_world(n_entities: int, rng: np.random.Generator) -> World:
    """``n_entities`` entities spread evenly over the families, in clusters of four, with discoverers."""
    namer = Namer(rng)
    entities: list[Entity] = []
    persons: list[Person] = []
    clusters: list[list[int]] = []
    for f, family in enumerate(FAMILIES):
        n_family = n_entities // len(FAMILIES) + (f < n_entities % len(FAMILIES))
        descriptors = _descriptors(family, n_family, rng)
        family_persons = _persons(family, max(1, round(0.8 * n_family)), namer, rng)
        places = [namer.place() for _ in range(max(CLUSTER_SIZE, n_family // 2))]
        offset = len(persons)
        persons.extend(family_persons)
        start = len(entities)
        while len(entities) - start < n_family:
            size = min(CLUSTER_SIZE, n_family - (len(entities) - start))
            names = _names(family, namer.stem(), size, rng)
            cluster_places = rng.choice(len(places), size=size, replace=False)
            members = []
            for i, (texts, numbers) in enumerate(_distinct_values(family, size, rng)):
                role, setting, colour = descriptors[len(entities) - start]
                person = offset + int(rng.integers(len(family_persons)))
                year = persons[person].active + int(rng.integers(40))
                texts.update(year=str(year), discoverer=persons[person].full, place=places[cluster_places[i]])
                numbers.update(year=float(year))
                entity = Entity(len(entities), family, str(names[i]), len(clusters), family.colours[colour],
                                setting, role, texts, numbers, person)  # fmt: skip
                persons[person].discoveries.append(entity.index)
                entities.append(entity)
                members.append(entity.index)
            clusters.append(members)
    return World(entities, persons, clusters)


def _fill(template: str, entity: Entity, **values: str) -> str:
    return template.format(Name=entity.start, name=entity.mid, **values)


def _pick(options, rng: np.random.Generator):
    return options[int(rng.integers(len(options)))]


def _intro(entity: Entity, rng: np.random.Generator) -> list[str]:
    family = entity.family
    colour, setting, role = entity.colour, family.settings[entity.setting][0], family.roles[entity.role][0]
    a = "an" if colour[0] in "aeiou" else "a"
    first = _pick((f"{{Name}} is {a} {colour} {family.noun} {setting}.",
                   f"{{Name}} is a {family.noun} of {colour} colour, {setting}.",
                   f"{{Name}} is a {family.noun} {setting}; it is {colour} in colour."), rng)  # fmt: skip
    second = _pick((f"{{Name}} {role}.", f"Notably, {{name}} {role}.", f"It {role}."), rng)
    return [_fill(first, entity), _fill(second, entity)]


def _state(entity: Entity, key: str, rng: np.random.Generator) -> str:
    """The sentence stating one attribute, recorded as its evidence with the matching lexical question."""
    attribute = next(a for a in entity.family.attributes if a.key == key)
    phrase = _pick(attribute.phrases, rng)
    sentence = _fill(phrase.article, entity, value=entity.values[key])
    entity.evidence[key] = sentence
    entity.questions[key] = _fill(phrase.question, entity)
    return sentence


def _history(entity: Entity, rng: np.random.Generator) -> str:
    history = _pick(entity.family.history, rng)
    values = {k: entity.values[k] for k in ("year", "place")}
    sentence = _fill(history.article, entity, person=entity.values["discoverer"], **values)
    sentence = sentence[0].upper() + sentence[1:]
    for key in HISTORY:
        entity.evidence[key] = sentence
        entity.questions[key] = _fill(history.questions[key], entity)
    return sentence


def _comparisons(entity: Entity, world: World, rng: np.random.Generator) -> list[str]:
    """One or two sentences comparing the entity with siblings on a numeric attribute (true statements)."""
    siblings = [world.entities[i] for i in world.clusters[entity.cluster] if i != entity.index]
    numeric = [a for a in entity.family.attributes if a.comparatives]
    sentences = []
    for n, i in enumerate(rng.permutation(len(siblings))[: int(rng.integers(1, 3))]):
        other = siblings[i]
        attribute = _pick(numeric, rng)
        higher = other.numbers[attribute.key] > entity.numbers[attribute.key]
        if n == 0:  # what the sibling is, relative to this entity
            text = f"{{Name}} is often confused with {other.mid}, which {attribute.comparatives[0 if higher else 1]}."
        else:  # what this entity is, relative to the sibling
            text = f"Compared with {other.mid}, {{name}} {attribute.comparatives[1 if higher else 0]}."
        sentences.append(_fill(text, entity))
    return sentences


def _entity_article(entity: Entity, world: World, rng: np.random.Generator) -> str:
    family = entity.family
    keys = [family.attributes[i].key for i in rng.permutation(len(family.attributes))]
    n_intro = int(rng.integers(1, 3))
    entity.intro = tuple(keys[:n_intro])
    fillers = [_fill(family.fillers[i], entity) for i in rng.permutation(len(family.fillers))[:2]]
    paragraphs = [_intro(entity, rng) + [_state(entity, k, rng) for k in keys[:n_intro]]]
    history = [_history(entity, rng)] + ([fillers[0]] if rng.random() < 0.4 else [])
    properties = [_state(entity, k, rng) for k in keys[n_intro:]]
    properties.insert(int(rng.integers(len(properties) + 1)), fillers[1])
    has_siblings = len(world.clusters[entity.cluster]) > 1
    comparisons = _comparisons(entity, world, rng) if has_siblings and rng.random() < 0.5 else []
    if not comparisons and rng.random() < 0.3:
        paragraphs.append(history + properties)
    else:
        paragraphs += [history, properties] + ([comparisons] if comparisons else [])
    return "\n\n".join(" ".join(p) for p in paragraphs)


def _person_article(p: int, world: World, rng: np.random.Generator) -> str:
    person = world.persons[p]
    family = next(f for f in FAMILIES if f.key == person.family)
    born = person.active - int(rng.integers(22, 36))
    died = person.active + int(rng.integers(40, 56))
    founded = person.active + int(rng.integers(5, 35))
    inst = person.institution
    aim = f"to promote the study of {family.noun}s"
    founding = _pick((f"In {founded}, {person.full} founded the {inst} {aim}.",
                      f"{person.full} founded the {inst} in {founded} {aim}.",
                      f"The {inst} was founded by {person.full} in {founded} {aim}."), rng)  # fmt: skip
    world.founding[p] = founding
    a = "an" if family.field[0] in "aeiou" else "a"
    first = [f"{person.full} ({born}–{died}) was {a} {family.field} born in {person.birthplace}.", founding]
    facts = [PERSON_FACTS[i].format(surname=person.surname) for i in rng.permutation(len(PERSON_FACTS))[:2]]
    if rng.random() < 0.5:
        return " ".join(first + facts[:1])
    return " ".join(first) + "\n\n" + " ".join(facts)


def write_articles(world: World, rng: np.random.Generator) -> None:
    """Write every entity's and person's article into ``world.articles`` (shuffled), recording evidence."""
    articles = [(e.name, _entity_article(e, world, rng)) for e in world.entities]
    articles += [(person.title, _person_article(p, world, rng)) for p, person in enumerate(world.persons)]
    world.articles = [articles[i] for i in rng.permutation(len(articles))]
