"""The wording of the synthetic encyclopaedia: five families of invented entities and how each fact is said.

Every fact has several article sentences, each paired with a *lexical* question that reuses its words, and
*paraphrased* questions that ask for it in other words. Each entity is also described by a colour, a
setting and a role; the article states them in one wording (``"found in desert caves"``) and paraphrased
questions use another (``"occurs in caverns of arid lands"``), so that only a reader of meaning, not of
words, connects the two. Templates use ``{Name}`` at the start of a sentence and ``{name}`` inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Phrase:
    """One article sentence stating a fact, and the lexical question that asks for it in the same words."""

    article: str
    question: str


@dataclass(frozen=True)
class Attribute:
    """A property with its values (``low..high`` by ``step``, or ``choices``) and its wordings."""

    key: str
    phrases: tuple[Phrase, ...]
    paraphrases: tuple[str, ...]  # questions about "the {desc}" that avoid the article's words
    unit: str = ""  # appended to the number: "{number} {unit}"
    low: float = 0.0
    high: float = 0.0
    step: float = 1.0
    decimals: int = 0
    choices: tuple[str, ...] = ()
    comparatives: tuple[str, str] | None = None  # what a sibling "is" when its value is (higher, lower)

    def draw(self, rng: np.random.Generator) -> tuple[str, float]:
        """A random value as (text, number); a categorical value's number is its index."""
        if self.choices:
            i = int(rng.integers(len(self.choices)))
            return self.choices[i], float(i)
        n = round((self.high - self.low) / self.step)
        number = round(self.low + self.step * int(rng.integers(n + 1)), self.decimals)
        text = f"{number:,.{self.decimals}f}"
        return (f"{text} {self.unit}" if self.unit else text), number


@dataclass(frozen=True)
class History:
    """The discovery sentence: who first described the entity, when and where, and its questions."""

    article: str  # with {person} {year} {place}
    questions: dict[str, str]  # attribute ("year", "discoverer", "place") -> lexical question


@dataclass(frozen=True)
class Family:
    """A kind of entity: its nouns, descriptors, attributes, discovery wording and name pattern."""

    key: str
    noun: str  # in the article
    question_noun: str  # in paraphrased questions
    colours: tuple[str, ...]  # keys of COLOURS
    settings: tuple[tuple[str, str], ...]  # (article participle phrase, question verb phrase)
    roles: tuple[tuple[str, str], ...]  # (article verb phrase, question verb phrase)
    attributes: tuple[Attribute, ...]
    history: tuple[History, ...]
    two_hop: dict[str, str]  # attribute -> question with {inst}
    field: str  # the discoverers' profession
    institution: str  # what a discoverer founds ("Geological Society")
    fillers: tuple[str, ...]  # neutral sentences ({Name}/{name} allowed)
    the: bool = False  # names take "the" ("the Velora River")


# article colour -> question colour
COLOURS = {
    "red": "reddish",
    "blue": "bluish",
    "green": "greenish",
    "yellow": "yellowish",
    "white": "whitish",
    "black": "blackish",
    "grey": "greyish",
    "brown": "brownish",
    "orange": "orangey",
    "purple": "purplish",
    "pink": "pinkish",
}
ALL_COLOURS = tuple(COLOURS)

MELTING = (
    Phrase("{Name} melts at {value}.", "At what temperature does {name} melt?"),
    Phrase("The melting point of {name} is {value}.", "What is the melting point of {name}?"),
    Phrase("{Name} has a melting point of {value}.", "What melting point does {name} have?"),
)
MELTING_PARAPHRASES = (
    "How hot must the {desc} become before it turns liquid?",
    "Above which temperature does the {desc} stop being solid?",
)
HOTTER = ("melts at a higher temperature", "melts at a lower temperature")

MINERAL = Family(
    key="mineral",
    noun="mineral",
    question_noun="stone",
    colours=ALL_COLOURS,
    settings=(
        ("found in desert caves", "occurs in caverns of arid lands"),
        ("found in volcanic ash", "occurs in the dust thrown out by eruptions"),
        ("found around deep-sea vents", "forms beside hot springs on the ocean floor"),
        ("found in ancient riverbeds", "occurs in the gravel of old stream channels"),
        ("found on salt flats", "forms on dry, briny plains"),
        ("found inside meteorites", "arrives on Earth within fallen space rocks"),
        ("found in glacial moraines", "occurs in rubble pushed along by ice sheets"),
        ("found in coal seams", "occurs within layers of fossil fuel"),
        ("found in marble quarries", "occurs where sculptors' white rock is extracted"),
        ("found in copper mines", "occurs where miners dig for the metal of electric wiring"),
        ("found in tropical soils", "occurs in the earth of rainy equatorial regions"),
        ("found in beach sand", "occurs among the grains of coastal shores"),
        ("found in oil shale", "occurs in petroleum-bearing rock"),
        ("found in lunar samples", "was brought back from the Moon by astronauts"),
        ("found in bat guano deposits", "occurs in heaps of droppings left by flying mammals"),
        (
            "found in deep diamond pipes",
            "occurs in the carrot-shaped shafts that carry gems up from the mantle",
        ),
    ),
    roles=(
        (
            "was used by ancient potters to glaze their ceramics",
            "coated the clay pots of early craftsmen with a glossy finish",
        ),
        ("is ground into a pigment for fresco painting", "is powdered to colour murals"),
        ("is added to steel to stop rust", "keeps iron alloys from corroding"),
        ("is used by watchmakers for bearings", "serves as a low-friction pivot inside clocks"),
        ("is cut into gemstones for jewellery", "is faceted and set into rings and necklaces"),
        ("is used by glassmakers as a flux", "helps turn sand into windowpanes"),
        ("is spread on fields as a fertiliser", "is scattered over crops to enrich the soil"),
        (
            "is the main ore of a metal used in batteries",
            "is mined for an element needed in rechargeable cells",
        ),
        ("is carved into statues by sculptors", "is chiselled into figurines by artists"),
        ("is used to filter drinking water", "purifies what comes out of the tap"),
        ("glows under ultraviolet light", "fluoresces beneath a black lamp"),
        ("was once traded as a currency", "served as money in old markets"),
        ("is burned in fireworks for a bright flame", "colours pyrotechnic displays"),
        ("is mixed into cement by builders", "is blended into concrete on construction sites"),
        ("is used as an abrasive in sandpaper", "is glued onto grit sheets for smoothing wood"),
        ("is used in toothpaste to polish teeth", "cleans enamel in dental cream"),
        ("is used to make heat-resistant bricks for furnaces", "lines kilns with fireproof blocks"),
        ("is used in radio crystals", "tunes early wireless receivers"),
        ("was used as a cosmetic by ancient Egyptians", "served as eye make-up along the Nile in antiquity"),
        ("is used to absorb spilled oil", "soaks up petroleum leaks"),
        ("is added to animal feed as a supplement", "enriches livestock diets"),
        ("is used to make lenses for telescopes", "is shaped into optics for stargazers"),
        ("is used as a lubricant in engines", "reduces wear between moving motor parts"),
        ("is used in nuclear reactors to absorb neutrons", "controls fission in atomic power plants"),
        ("is used to purify sugar", "refines sweeteners in factories"),
    ),
    attributes=(
        Attribute(
            "hardness",
            (
                Phrase("{Name} has a Mohs hardness of {value}.", "What is the Mohs hardness of {name}?"),
                Phrase(
                    "On the Mohs scale of hardness, {name} rates {value}.",
                    "How does {name} rate on the Mohs scale of hardness?",
                ),
                Phrase(
                    "The hardness of {name} is {value} on the Mohs scale.",
                    "What is the hardness of {name} on the Mohs scale?",
                ),
            ),
            (
                "How well does the {desc} resist being scratched?",
                "How difficult is it to scratch the {desc}?",
            ),
            low=1.5,
            high=9.5,
            step=0.5,
            decimals=1,
            comparatives=("is harder", "is softer"),
        ),
        Attribute(
            "density",
            (
                Phrase("The density of {name} is {value}.", "What is the density of {name}?"),
                Phrase("{Name} has a density of {value}.", "What density does {name} have?"),
                Phrase(
                    "{Name} is fairly heavy for a mineral, with a density of {value}.",
                    "What density makes {name} fairly heavy for a mineral?",
                ),
            ),
            (
                "How much mass does one cubic centimetre of the {desc} contain?",
                "What is the mass per unit volume of the {desc}?",
            ),
            unit="g/cm³",
            low=2.0,
            high=8.0,
            step=0.1,
            decimals=1,
            comparatives=("is denser", "is less dense"),
        ),
        Attribute(
            "melting_point",
            MELTING,
            MELTING_PARAPHRASES,
            unit="°C",
            low=900,
            high=2400,
            step=10,
            comparatives=HOTTER,
        ),
        Attribute(
            "crystal_system",
            (
                Phrase(
                    "{Name} crystallises in the {value} system.", "In which system does {name} crystallise?"
                ),
                Phrase(
                    "Crystals of {name} belong to the {value} crystal system.",
                    "To which crystal system do crystals of {name} belong?",
                ),
            ),
            (
                "What is the lattice symmetry of the {desc}?",
                "Which geometric class describes the atomic arrangement of the {desc}?",
            ),
            choices=(
                "cubic",
                "tetragonal",
                "orthorhombic",
                "hexagonal",
                "trigonal",
                "monoclinic",
                "triclinic",
            ),
        ),
    ),
    history=(
        History(
            "{Name} was first described by {person} in {year} from specimens collected near {place}.",
            {
                "year": "In what year was {name} first described?",
                "discoverer": "Who first described {name}?",
                "place": "Near which place were the specimens collected from which {name} was first described?",
            },
        ),
        History(
            "{person} described {name} in {year}, using samples found near {place}.",
            {
                "year": "In which year was {name} described?",
                "discoverer": "Who described {name}?",
                "place": "Near which place were the samples found that were used to describe {name}?",
            },
        ),
        History(
            "The first description of {name} was published in {year} by {person}, based on material "
            "from {place}.",
            {
                "year": "In what year was the first description of {name} published?",
                "discoverer": "Who published the first description of {name}?",
                "place": "Where did the material for the first description of {name} come from?",
            },
        ),
    ),
    two_hop={
        "year": "The founder of the {inst} described one new mineral. In what year was it described?",
        "place": "The founder of the {inst} described one new mineral. Near which place were its specimens found?",
    },
    field="mineralogist",
    institution="Geological Society",
    fillers=(
        "It often forms small crystals, e.g. needles and thin plates.",
        "Good specimens of {name} are approx. 2.5 cm across.",
        "Collectors prize well-formed crystals of {name}.",
        "{Name} is brittle and breaks along uneven surfaces.",
    ),
)

STAR = Family(
    key="star",
    noun="star",
    question_noun="celestial body",
    colours=("red", "blue", "white", "yellow", "orange"),
    settings=(
        ("located in a dense cluster", "sits among a crowded group of suns"),
        ("located near the galactic centre", "resides close to the core of the Milky Way"),
        ("located inside a bright nebula", "sits within a luminous cloud of interstellar vapour"),
        ("located far above the galactic plane", "is situated high over the flat disc of our galaxy"),
        (
            "located in the direction of the Andromeda galaxy",
            "appears in the same patch of sky as our large neighbouring island universe",
        ),
        ("located at the edge of a spiral arm", "resides at the rim of one of the Milky Way's curling limbs"),
        ("located near the Pleiades", "sits near the Seven Sisters"),
        ("located in a stellar nursery", "is situated where newborn suns are forming"),
        ("located in the solar neighbourhood", "resides among our nearest neighbours in space"),
        ("located beside a famous double star", "sits next to a well-known pair of suns"),
        ("located near the celestial pole", "barely moves as the sky turns overnight"),
        ("located in a dwarf satellite galaxy", "is situated in a small companion of the Milky Way"),
        ("located inside a supernova remnant", "resides within the expanding debris of an exploded sun"),
        ("located near a black hole", "sits beside a collapsed object that traps even light"),
        ("located on the far side of the galaxy", "is situated across the whole Milky Way from us"),
        ("located in an empty void", "resides in a vast, nearly vacant stretch of space"),
    ),
    roles=(
        ("was used by sailors to navigate", "guided mariners across the oceans"),
        (
            "marks the start of spring in several calendars",
            "signals the beginning of the planting season in old almanacs",
        ),
        ("is orbited by three known planets", "has a trio of worlds circling it"),
        ("flares violently every few years", "erupts with bursts of energy at short intervals"),
        ("is expected to explode as a supernova", "will probably end its life in a huge blast"),
        (
            "was the target of an early radio search for aliens",
            "was listened to in a pioneering hunt for extraterrestrial signals",
        ),
        ("is surrounded by a dusty disc", "has a ring of debris around it"),
        ("pulsates with a regular period", "swells and shrinks on a steady cycle"),
        ("inspired a famous painting", "appears in a celebrated work of art on canvas"),
        ("was named in ancient myths", "appears in old legends"),
        ("rotates unusually fast", "spins at a remarkable speed"),
        ("is used to calibrate telescopes", "serves as a reference for adjusting observing instruments"),
        ("has a strong magnetic field", "shows intense magnetism"),
        ("is moving rapidly towards the Sun", "approaches our solar system at high velocity"),
        ("hosts a planet that may support life", "might harbour a habitable world"),
        ("was recorded by Babylonian astronomers", "appears in clay-tablet sky records from Mesopotamia"),
        ("is losing mass through a powerful wind", "sheds material in a strong outflow"),
        ("is hidden by the Moon several times a year", "is regularly occulted by our natural satellite"),
        ("emits strong X-rays", "is an intense source of high-energy radiation"),
        ("is one of the oldest stars known", "formed very soon after the Big Bang"),
        ("was used to test general relativity", "helped confirm Einstein's theory of gravity"),
        ("is used by poets as a symbol of loyalty", "stands for faithfulness in verse"),
        ("changed colour during the last century", "shifted hue within the past hundred years"),
        ("contains unusually large amounts of lithium", "is rich in the lightest metal"),
        ("appears on a national flag", "is shown on a country's banner"),
    ),
    attributes=(
        Attribute(
            "distance",
            (
                Phrase("{Name} lies {value} from the Sun.", "How far from the Sun does {name} lie?"),
                Phrase("The distance to {name} is about {value}.", "What is the distance to {name}?"),
                Phrase("{Name} is roughly {value} away from Earth.", "How far away from Earth is {name}?"),
            ),
            (
                "How remote from our solar system is the {desc}?",
                "How long would a beam need to travel here from the {desc}?",
            ),
            unit="light-years",
            low=20,
            high=3000,
            step=10,
            comparatives=("lies farther away", "lies closer"),
        ),
        Attribute(
            "mass",
            (
                Phrase("{Name} has a mass of {value}.", "What is the mass of {name}?"),
                Phrase(
                    "The mass of {name} is estimated at {value}.", "What is the estimated mass of {name}?"
                ),
            ),
            (
                "How heavy is the {desc}?",
                "How much matter does the {desc} contain, compared with our own Sun?",
            ),
            unit="solar masses",
            low=0.2,
            high=20.0,
            step=0.1,
            decimals=1,
            comparatives=("is more massive", "is less massive"),
        ),
        Attribute(
            "spectral_type",
            (
                Phrase("{Name} is of spectral type {value}.", "What is the spectral type of {name}?"),
                Phrase(
                    "The spectrum of {name} places it in class {value}.",
                    "In which class does the spectrum of {name} place it?",
                ),
            ),
            (
                "Which letter-and-number category describes the light signature of the {desc}?",
                "How is the {desc} classified by the pattern of lines in its glow?",
            ),
            choices=tuple(f"{c}{d}" for c in "OBAFGKM" for d in range(10)),
        ),
        Attribute(
            "magnitude",
            (
                Phrase(
                    "{Name} has an apparent magnitude of {value}.",
                    "What is the apparent magnitude of {name}?",
                ),
                Phrase(
                    "Seen from Earth, {name} shines at magnitude {value}.",
                    "At what magnitude does {name} shine when seen from Earth?",
                ),
            ),
            (
                "How bright does the {desc} look in our night sky, in astronomers' units?",
                "What visual brightness figure do observers give the {desc}?",
            ),
            low=-1.0,
            high=6.5,
            step=0.1,
            decimals=1,
            comparatives=("appears fainter", "appears brighter"),
        ),
    ),
    history=(
        History(
            "{Name} was first catalogued by {person} in {year} from an observatory near {place}.",
            {
                "year": "In what year was {name} first catalogued?",
                "discoverer": "Who first catalogued {name}?",
                "place": "Near which place was the observatory from which {name} was first catalogued?",
            },
        ),
        History(
            "{person} added {name} to a star catalogue in {year} while observing from {place}.",
            {
                "year": "In which year was {name} added to a star catalogue?",
                "discoverer": "Who added {name} to a star catalogue?",
                "place": "From where was the observer working who added {name} to a star catalogue?",
            },
        ),
        History(
            "The first catalogue entry for {name} was made in {year} by {person}, working at {place}.",
            {
                "year": "In what year was the first catalogue entry for {name} made?",
                "discoverer": "Who made the first catalogue entry for {name}?",
                "place": "Where was the first catalogue entry for {name} made?",
            },
        ),
    ),
    two_hop={
        "year": "The founder of the {inst} catalogued one new star. In what year was it catalogued?",
        "place": "The founder of the {inst} catalogued one new star. From which place was it observed?",
    },
    field="astronomer",
    institution="Astronomical Society",
    fillers=(
        "It is visible with binoculars on clear nights.",
        "Amateur observers often photograph {name}.",
        "Its light takes many centuries to reach us, i.e. we see it as it was long ago.",
        "{Name} has been studied by several space telescopes.",
    ),
)

FROG = Family(
    key="frog",
    noun="frog",
    question_noun="amphibian",
    colours=ALL_COLOURS,
    settings=(
        ("native to mountain streams", "inhabits fast water at high altitude"),
        ("native to lowland rainforest", "inhabits humid jungle near sea level"),
        ("native to coastal mangroves", "inhabits salty tidal woods by the shore"),
        ("native to cloud forests", "inhabits fog-shrouded jungle on mountainsides"),
        ("native to savanna ponds", "inhabits temporary pools in grassland"),
        ("native to limestone caves", "inhabits dark caverns in karst"),
        ("native to bamboo thickets", "inhabits stands of the plant pandas feed on"),
        ("native to river floodplains", "inhabits land that is flooded each wet season"),
        ("native to alpine meadows", "inhabits high mountain pastures"),
        ("native to peat bogs", "inhabits mossy mires"),
        ("native to rice paddies", "inhabits the watery fields where a staple cereal is grown"),
        ("native to oak woodland", "inhabits acorn-bearing forest"),
        ("native to desert oases", "inhabits watered refuges amid the dunes"),
        ("native to volcanic islands", "inhabits isles formed by eruptions"),
        ("native to urban gardens", "inhabits backyards in towns and cities"),
        ("native to crater lakes", "inhabits deep lakes in old calderas"),
    ),
    roles=(
        ("feeds mainly on ants", "eats chiefly colonial insects"),
        ("secretes a toxic skin poison", "produces venom through its hide"),
        ("carries its tadpoles on its back", "transports its young piggyback"),
        ("calls loudly at dawn", "sings noisily at sunrise"),
        ("is active only at night", "comes out exclusively after dark"),
        ("can glide between trees", "sails through the air from branch to branch"),
        ("changes colour with temperature", "shifts hue as the weather warms or cools"),
        ("survives being frozen in winter", "can endure turning to ice during the cold season"),
        ("burrows underground during droughts", "digs into the soil when the land is dry"),
        ("is threatened by a fungal disease", "is endangered by a mould-like infection"),
        ("lays its eggs in foam nests", "deposits its spawn in bubbly masses"),
        ("hunts other frogs", "preys on fellow amphibians"),
        ("is kept as a pet", "is sold in the exotic animal trade"),
        ("lives in bromeliads", "shelters in the leaf cups of pineapple-family plants"),
        ("gives birth to live young", "bears fully formed babies rather than spawn"),
        ("has transparent skin", "is so translucent that its organs are visible"),
        ("is eaten as a delicacy", "is served as a gourmet dish in restaurants"),
        ("mimics the call of a bird", "imitates a chirping songbird"),
        ("climbs waterfalls", "clambers up tumbling torrents"),
        ("is used in medical research", "is studied in laboratories to develop drugs"),
        ("guards its eggs until they hatch", "stays beside its brood until it is born"),
        (
            "was thought to be extinct until rediscovered",
            "was presumed lost for decades before turning up again",
        ),
        ("can change its sex", "switches between male and female"),
        ("breathes only through its skin", "lacks lungs and takes in oxygen through its body surface"),
        ("can leap twenty times its body length", "jumps extraordinarily far for its size"),
    ),
    attributes=(
        Attribute(
            "length",
            (
                Phrase("Adults of {name} reach {value} in length.", "What length do adults of {name} reach?"),
                Phrase("{Name} grows to a length of {value}.", "To what length does {name} grow?"),
                Phrase("The body length of {name} is about {value}.", "What is the body length of {name}?"),
            ),
            (
                "How big is the {desc}, measured from snout to vent?",
                "What size does the {desc} attain when fully mature?",
            ),
            unit="cm",
            low=1.5,
            high=12.0,
            step=0.1,
            decimals=1,
            comparatives=("is larger", "is smaller"),
        ),
        Attribute(
            "mass",
            (
                Phrase("An adult {name} weighs about {value}.", "How much does an adult {name} weigh?"),
                Phrase("{Name} has a body mass of {value}.", "What is the body mass of {name}?"),
            ),
            (
                "How heavy is the fully grown {desc}?",
                "What does a mature specimen of the {desc} tip the scales at?",
            ),
            unit="g",
            low=2,
            high=300,
            step=1,
            comparatives=("is heavier", "is lighter"),
        ),
        Attribute(
            "clutch",
            (
                Phrase(
                    "Females of {name} lay around {value} per clutch.",
                    "How many eggs do females of {name} lay per clutch?",
                ),
                Phrase(
                    "{Name} lays clutches of about {value}.", "How large are the clutches that {name} lays?"
                ),
            ),
            (
                "How many offspring does the {desc} produce in a single spawning?",
                "What brood size is typical for the {desc}?",
            ),
            unit="eggs",
            low=20,
            high=3000,
            step=10,
            comparatives=("lays larger clutches", "lays smaller clutches"),
        ),
        Attribute(
            "lifespan",
            (
                Phrase("{Name} can live for {value}.", "How long can {name} live?"),
                Phrase("The lifespan of {name} is about {value}.", "What is the lifespan of {name}?"),
            ),
            ("To what age can the {desc} survive in the wild?", "How old does the {desc} get at most?"),
            unit="years",
            low=2,
            high=25,
            step=1,
            comparatives=("lives longer", "has a shorter life"),
        ),
    ),
    history=(
        History(
            "{Name} was first described by {person} in {year} from specimens collected near {place}.",
            {
                "year": "In what year was {name} first described?",
                "discoverer": "Who first described {name}?",
                "place": "Near which place were the specimens collected from which {name} was first described?",
            },
        ),
        History(
            "{person} described {name} in {year} from frogs caught near {place}.",
            {
                "year": "In which year was {name} described from frogs caught in the wild?",
                "discoverer": "Who described {name} from frogs caught in the wild?",
                "place": "Near which place were the frogs caught from which {name} was described?",
            },
        ),
        History(
            "The species {name} was named by {person} in {year}, after an expedition to {place}.",
            {
                "year": "In what year was the species {name} named?",
                "discoverer": "Who named the species {name}?",
                "place": "To which place was the expedition after which the species {name} was named?",
            },
        ),
    ),
    two_hop={
        "year": "The founder of the {inst} described one new frog. In what year was it described?",
        "place": "The founder of the {inst} described one new frog. Near which place was it collected?",
    },
    field="zoologist",
    institution="Natural History Museum",
    fillers=(
        "Like many frogs, it is sensitive to pollution, i.e. it declines quickly where water is degraded.",
        "Its call is a short series of clicks.",
        "{Name} is rarely seen by casual visitors.",
        "Tadpoles of {name} take approx. 8 weeks to change into froglets.",
    ),
)

COMPOUND = Family(
    key="compound",
    noun="compound",
    question_noun="substance",
    colours=ALL_COLOURS,
    settings=(
        ("found naturally in pine resin", "is present in the sap of conifers"),
        ("found naturally in snake venom", "is present in the bite of certain serpents"),
        ("found naturally in willow bark", "is present in the outer layer of a riverside tree"),
        ("found naturally in sea water", "is present in the ocean"),
        ("found naturally in volcanic gases", "is released by erupting mountains"),
        ("found naturally in ripe fruit", "is present in mature produce"),
        ("found naturally in human sweat", "is present in perspiration"),
        ("found naturally in coal tar", "is present in the residue of heated fossil fuel"),
        ("found naturally in cow's milk", "is present in dairy products"),
        ("found naturally in tea leaves", "is present in the dried foliage used for brewing"),
        ("found naturally in coffee beans", "is present in roasted espresso seeds"),
        ("found naturally in garlic", "is present in pungent cloves of the onion family"),
        ("found naturally in seaweed", "is present in marine algae"),
        ("found naturally in citrus peel", "is present in the rind of lemons and limes"),
        ("found naturally in crude oil", "is present in unrefined petroleum"),
        ("found naturally in bee honey", "is present in the sweet syrup made by hives"),
    ),
    roles=(
        ("is used as a solvent for paints", "thins coatings for house decorators"),
        ("is used as a food preservative", "keeps groceries from spoiling"),
        ("is used as a local anaesthetic", "numbs the skin before minor surgery"),
        ("is used in rocket fuel", "helps propel launch vehicles"),
        ("is used to bleach paper", "whitens pulp at mills"),
        ("is used in perfumes", "gives scents their fragrance"),
        ("is used as an insecticide", "kills crop pests"),
        ("is used to tan leather", "turns raw animal skins into durable hide"),
        ("is used as a sweetener", "adds a sugary taste to drinks"),
        ("is used in photographic film", "makes camera emulsions sensitive to light"),
        ("is used to treat malaria", "cures a mosquito-borne fever"),
        ("is used as a dye for wool", "colours sheep fibre"),
        ("is used in antifreeze", "keeps engine coolant from icing up"),
        ("is used as a catalyst in plastics production", "speeds up the making of polymers"),
        ("is used as a disinfectant in hospitals", "kills germs on clinic surfaces"),
        ("is used to flavour chewing gum", "gives candy its minty taste"),
        ("is used in sunscreen to block ultraviolet rays", "shields bathers from sunburn"),
        ("is used in fire extinguishers", "smothers flames in emergency canisters"),
        ("is used to make nylon", "is a building block of synthetic stocking fibre"),
        ("is used to ripen bananas", "hastens the maturing of harvested tropical fruit"),
        ("is used as a rat poison", "kills rodents"),
        ("is used to etch glass", "engraves patterns into windowpanes"),
        ("is used as an explosive in mining", "blasts rock apart in quarries"),
        ("is used in batteries as an electrolyte", "carries charge inside rechargeable cells"),
        ("is used in hair dye", "colours people's locks at the salon"),
    ),
    attributes=(
        Attribute(
            "molar_mass",
            (
                Phrase("{Name} has a molar mass of {value}.", "What is the molar mass of {name}?"),
                Phrase("The molar mass of {name} is {value}.", "What molar mass does {name} have?"),
            ),
            ("What does one mole of the {desc} weigh?", "How heavy is a mole of the {desc}?"),
            unit="g/mol",
            low=40.0,
            high=600.0,
            step=0.1,
            decimals=1,
            comparatives=("is heavier per molecule", "is lighter per molecule"),
        ),
        Attribute(
            "melting_point",
            MELTING,
            MELTING_PARAPHRASES,
            unit="°C",
            low=-120,
            high=150,
            step=1,
            comparatives=HOTTER,
        ),
        Attribute(
            "boiling_point",
            (
                Phrase("{Name} boils at {value}.", "At what temperature does {name} boil?"),
                Phrase("The boiling point of {name} is {value}.", "What is the boiling point of {name}?"),
            ),
            (
                "At what temperature does the {desc} turn into vapour?",
                "How hot must the {desc} get before it evaporates completely?",
            ),
            unit="°C",
            low=160,
            high=420,
            step=1,
            comparatives=("boils at a higher temperature", "boils at a lower temperature"),
        ),
        Attribute(
            "solubility",
            (
                Phrase(
                    "The solubility of {name} in water is {value}.",
                    "What is the solubility of {name} in water?",
                ),
                Phrase(
                    "{Name} dissolves in water up to {value}.",
                    "Up to what amount does {name} dissolve in water?",
                ),
            ),
            (
                "How much of the {desc} can a litre of H2O take up?",
                "What quantity of the {desc} goes into aqueous solution per litre at most?",
            ),
            unit="g/L",
            low=1,
            high=900,
            step=1,
            comparatives=("is more soluble", "is less soluble"),
        ),
    ),
    history=(
        History(
            "{Name} was first synthesised by {person} in {year} at a laboratory in {place}.",
            {
                "year": "In what year was {name} first synthesised?",
                "discoverer": "Who first synthesised {name}?",
                "place": "In which place was the laboratory where {name} was first synthesised?",
            },
        ),
        History(
            "{person} prepared {name} for the first time in {year}, working in {place}.",
            {
                "year": "In which year was {name} prepared for the first time?",
                "discoverer": "Who prepared {name} for the first time?",
                "place": "Where was the chemist working who prepared {name} for the first time?",
            },
        ),
        History(
            "The first synthesis of {name} was reported in {year} by {person} of {place}.",
            {
                "year": "In what year was the first synthesis of {name} reported?",
                "discoverer": "Who reported the first synthesis of {name}?",
                "place": "Which place was the author of the first reported synthesis of {name} from?",
            },
        ),
    ),
    two_hop={
        "year": "The founder of the {inst} synthesised one new compound. In what year was it synthesised?",
        "place": "The founder of the {inst} synthesised one new compound. In which place was it made?",
    },
    field="chemist",
    institution="Chemical Institute",
    fillers=(
        "It is stored in dark glass bottles, e.g. amber flasks.",
        "Pure {name} has a faint smell.",
        "{Name} is stable at room temperature.",
        "Industrial batches of {name} are approx. 99.5 per cent pure.",
    ),
)

RIVER = Family(
    key="river",
    noun="river",
    question_noun="waterway",
    colours=ALL_COLOURS,
    settings=(
        ("flowing through dense rainforest", "crosses thick tropical jungle"),
        ("flowing across a high plateau", "crosses elevated tableland"),
        ("flowing through a deep canyon", "runs between steep gorge walls"),
        ("flowing across the desert", "crosses arid, sandy country"),
        ("flowing through farmland", "crosses agricultural country"),
        ("flowing through a large city", "crosses a big urban area"),
        ("flowing through marshland", "crosses boggy wetlands"),
        ("flowing through pine forests", "crosses coniferous woodland"),
        ("flowing across the tundra", "crosses the frozen Arctic plains"),
        ("flowing through volcanic hills", "crosses slopes built by old eruptions"),
        ("flowing through vineyards", "crosses wine-growing country"),
        ("flowing through a national park", "crosses a protected wilderness reserve"),
        ("flowing across coastal lowlands", "crosses flat country near the shore"),
        ("flowing through mangrove swamps", "crosses salt-tolerant tidal woodland"),
        ("flowing through steppe grassland", "crosses vast dry Eurasian prairie"),
        ("flowing through an industrial region", "crosses a zone of factories"),
    ),
    roles=(
        ("was used to float timber to the sawmills", "carried logs downstream to lumber yards"),
        ("powers a large hydroelectric dam", "drives turbines that generate electricity"),
        ("is famous for its salmon runs", "is known for fish swimming upstream to spawn"),
        ("was a major trade route", "ferried merchants' cargo in earlier centuries"),
        ("freezes solid every winter", "turns to ice during the cold months"),
        ("floods its valley every spring", "spills over the surrounding lowland each April"),
        ("forms a border between two provinces", "divides neighbouring regions"),
        ("has a famous waterfall", "plunges over a celebrated cascade"),
        ("is used to irrigate rice paddies", "supplies the flooded fields of a staple Asian grain"),
        ("carries gold-bearing sand", "transports sediment rich in precious metal"),
        ("is popular for white-water rafting", "attracts thrill-seekers in inflatable boats"),
        ("disappears underground for part of its course", "vanishes into caves along its way"),
        ("is heavily polluted by mines", "is contaminated by excavation waste"),
        ("is home to river dolphins", "shelters freshwater cetaceans"),
        ("is sacred to local pilgrims", "is revered by worshippers who bathe in it"),
        ("supplies drinking water to the capital", "fills the taps of the nation's seat of government"),
        ("was the site of a famous battle", "saw a celebrated military clash on its shores"),
        ("has crocodiles along its banks", "is infested with large reptilian predators"),
        ("changes course every few decades", "shifts its channel regularly over generations"),
        ("is crossed by a famous suspension bridge", "is spanned by a celebrated cable-hung crossing"),
        ("is fed by melting glaciers", "draws its flow from thawing ice fields"),
        ("is navigable by large ships", "can carry ocean-going vessels far inland"),
        ("is known for its oxbow lakes", "leaves crescent-shaped ponds along its meanders"),
        ("flows backwards during the monsoon", "reverses direction in the rainy season"),
        ("has a tidal bore", "sees a wave surge upstream with the incoming tide"),
    ),
    attributes=(
        Attribute(
            "length",
            (
                Phrase("{Name} is {value} long.", "How long is {name}?"),
                Phrase("{Name} has a total length of {value}.", "What is the total length of {name}?"),
                Phrase(
                    "{Name} runs for {value} before reaching the sea.",
                    "How far does {name} run before reaching the sea?",
                ),
            ),
            (
                "How far does the {desc} travel from its spring to its end?",
                "What distance separates the headwaters of the {desc} from its estuary?",
            ),
            unit="km",
            low=40,
            high=3000,
            step=5,
            comparatives=("is longer", "is shorter"),
        ),
        Attribute(
            "basin",
            (
                Phrase("{Name} drains a basin of {value}.", "How large is the basin that {name} drains?"),
                Phrase(
                    "The drainage basin of {name} covers {value}.",
                    "What area does the drainage basin of {name} cover?",
                ),
            ),
            (
                "How much land sheds its rainfall into the {desc}?",
                "What is the size of the catchment of the {desc}?",
            ),
            unit="km²",
            low=500,
            high=900000,
            step=500,
            comparatives=("drains a larger basin", "drains a smaller basin"),
        ),
        Attribute(
            "discharge",
            (
                Phrase("{Name} has a mean discharge of {value}.", "What is the mean discharge of {name}?"),
                Phrase(
                    "The average discharge of {name} is {value}.", "What is the average discharge of {name}?"
                ),
            ),
            (
                "What volume of water does the {desc} carry each second, typically?",
                "How many cubic metres pass a point of the {desc} per second on a normal day?",
            ),
            unit="m³/s",
            low=5,
            high=20000,
            step=5,
            comparatives=("carries more water", "carries less water"),
        ),
        Attribute(
            "source_elevation",
            (
                Phrase("{Name} rises at an elevation of {value}.", "At what elevation does {name} rise?"),
                Phrase(
                    "The source of {name} lies at {value} above sea level.",
                    "At what height above sea level does the source of {name} lie?",
                ),
            ),
            (
                "How high up in the hills does the {desc} begin?",
                "At what altitude do the headwaters of the {desc} start?",
            ),
            unit="m",
            low=200,
            high=5000,
            step=10,
            comparatives=("rises higher up", "rises lower down"),
        ),
    ),
    history=(
        History(
            "{Name} was first mapped by {person} in {year} on an expedition from {place}.",
            {
                "year": "In what year was {name} first mapped?",
                "discoverer": "Who first mapped {name}?",
                "place": "From which place did the expedition set out that first mapped {name}?",
            },
        ),
        History(
            "{person} charted the course of {name} in {year}, setting out from {place}.",
            {
                "year": "In which year was the course of {name} charted?",
                "discoverer": "Who charted the course of {name}?",
                "place": "From where did the person set out who charted the course of {name}?",
            },
        ),
        History(
            "The first survey of {name} was made in {year} by {person}, who had travelled from {place}.",
            {
                "year": "In what year was the first survey of {name} made?",
                "discoverer": "Who made the first survey of {name}?",
                "place": "From which place had the maker of the first survey of {name} travelled?",
            },
        ),
    ),
    two_hop={
        "year": "The founder of the {inst} mapped one new river. In what year was it mapped?",
        "place": "The founder of the {inst} mapped one new river. From which place did that expedition start?",
    },
    field="explorer",
    institution="Geographical Society",
    fillers=(
        "Several small villages stand on its banks.",
        "Its water level varies strongly between seasons, e.g. by approx. 3.5 m near the mouth.",
        "Ferries cross {name} at a few points.",
        "Fishing boats use the lower reaches of {name}.",
    ),
    the=True,
)

FAMILIES = (MINERAL, STAR, FROG, COMPOUND, RIVER)

# Questions answerable without retrieval: a unit of the named quantity among units of other quantities.
UNITS = {
    "mass": ("kilogram", "gram", "tonne", "pound", "ounce"),
    "temperature": ("kelvin", "degree Celsius", "degree Fahrenheit"),
    "length": ("metre", "kilometre", "mile", "inch", "foot"),
    "time": ("second", "minute", "hour", "day"),
    "energy": ("joule", "calorie", "electronvolt", "kilowatt-hour"),
    "pressure": ("pascal", "bar", "atmosphere", "millimetre of mercury"),
    "power": ("watt", "horsepower", "kilowatt"),
    "electric current": ("ampere", "milliampere"),
    "electric charge": ("coulomb", "ampere-hour"),
    "force": ("newton", "dyne", "pound-force"),
    "frequency": ("hertz", "megahertz"),
    "volume": ("litre", "gallon", "cubic metre", "pint"),
    "area": ("hectare", "acre", "square metre"),
}
UNIT_QUESTIONS = (
    "Which of the following is a unit of {quantity}?",
    "Which of these units measures {quantity}?",
    "In which of the following units can {quantity} be expressed?",
)
TYPE_QUESTIONS = ("Which of the following is the name of a {noun}?", "Which of these is a {noun}?")

FIRST_NAMES = (
    "Ilse",
    "Tomas",
    "Amara",
    "Kenji",
    "Sofia",
    "Nikolai",
    "Ada",
    "Henrik",
    "Lucia",
    "Omar",
    "Priya",
    "Jonas",
    "Maren",
    "Felix",
    "Irena",
    "Matteo",
    "Yara",
    "Anselm",
    "Clara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ingrid",
    "Jasper",
    "Katja",
    "Leon",
    "Mira",
    "Nils",
    "Olga",
    "Pavel",
    "Rosa",
    "Stefan",
    "Tove",
    "Ugo",
    "Vera",
    "Walter",
    "Xenia",
    "Yusuf",
    "Zora",
    "Agnes",
    "Bruno",
    "Celia",
    "Dario",
    "Edith",
    "Ferdinand",
    "Hilde",
    "Ivo",
    "Lotte",
)
SURNAME_ENDINGS = ("", "mann", "ova", "ez", "sen", "er", "i", "ski", "ard", "ton")
PLACE_ENDINGS = ("", "ton", "by", "ford", "ia", "holm", "ville", "dale", "wick", "stad")
PLACE_PREFIXES = ("Mt. ", "St. ", "Port ")
TITLES = ("Dr. ", "Prof. ")
GREEK = (
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Epsilon",
    "Zeta",
    "Eta",
    "Theta",
    "Iota",
    "Kappa",
    "Lambda",
    "Mu",
    "Nu",
    "Xi",
    "Omicron",
    "Pi",
    "Rho",
    "Sigma",
    "Tau",
    "Upsilon",
    "Phi",
    "Chi",
    "Psi",
    "Omega",
)
EPITHETS = (
    "montana",
    "viridis",
    "gracilis",
    "marmorata",
    "minor",
    "maxima",
    "rubra",
    "nigra",
    "aurea",
    "silvatica",
    "palustris",
    "striata",
    "ornata",
    "vulgaris",
    "borealis",
    "australis",
)
MINERAL_SUFFIXES = ("ite", "alite", "onite", "erite", "ianite", "olite")
COMPOUND_SUFFIXES = ("ol", "ane", "ine", "ide", "anol", "azine", "ene")
RIVER_SUFFIXES = ("a", "in", "eth", "on", "ara", "ule")
PERSON_FACTS = (
    "{surname} later wrote a popular textbook for students.",
    "{surname} spent many years travelling through remote regions.",
    "{surname} taught at a small college for most of a long career.",
    "{surname} kept detailed notebooks that survive in an archive.",
    "{surname} corresponded with many scientists of the day.",
)
