"""The hand-written reading passages of the generated sample, with what a good summary of each must say.

Each passage is written with its key points in ``[...]`` and its minor details in ``{...}``; the markers
are stripped from the text the students read (:attr:`Prompt.text`), so every key point and detail is,
by construction, a verbatim sentence of the passage. Each key point comes with two or three paraphrases
(how a student who understood it would say it in their own words). The passages are original texts on
school-reading topics (history, science, literature); the last ones in :data:`PROMPTS` are the sample's
unseen test prompts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

_MARKED = re.compile(r"\[([^\]]+)\]|\{([^}]+)\}")
PARAGRAPH_BREAK = "\r\n\r\n"  # as in the original prompts_train.csv


@dataclass(frozen=True)
class Prompt:
    title: str
    question: str
    topic: str  # a noun phrase students use in filler and invented claims ("the printing press")
    paragraphs: tuple[str, ...]  # with [key point] and {detail} markers
    paraphrases: tuple[tuple[str, ...], ...]  # one tuple per key point, in passage order

    def __post_init__(self):
        if len(self.key_points) != len(self.paraphrases):
            raise ValueError(
                f"{self.title}: {len(self.key_points)} key points but {len(self.paraphrases)} paraphrase sets"
            )

    @cached_property
    def prompt_id(self) -> str:
        """Six hex characters like the original's ``39c16e``, fixed by the title (the same in every sample)."""
        return hashlib.sha1(self.title.encode()).hexdigest()[:6]

    @cached_property
    def text(self) -> str:
        return PARAGRAPH_BREAK.join(
            _MARKED.sub(lambda m: m.group(1) or m.group(2), p) for p in self.paragraphs
        )

    @cached_property
    def plain_paragraphs(self) -> tuple[str, ...]:
        return tuple(self.text.split(PARAGRAPH_BREAK))

    @cached_property
    def key_points(self) -> tuple[str, ...]:
        return tuple(m.group(1) for p in self.paragraphs for m in _MARKED.finditer(p) if m.group(1))

    @cached_property
    def details(self) -> tuple[str, ...]:
        return tuple(m.group(2) for p in self.paragraphs for m in _MARKED.finditer(p) if m.group(2))


PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        title="The Printing Press",
        question="Summarize how the printing press changed the way ideas spread in Europe. "
        "Use key details from the text.",
        topic="the printing press",
        paragraphs=(
            "Before the middle of the fifteenth century, almost every book in Europe was copied by hand. "
            "[Monks and hired scribes could spend months copying a single book, so books were rare and very "
            "expensive.] {A large Bible might cost as much as a small farm.} Only churches, universities, and "
            "wealthy families could afford to own a library.",
            "Around 1440, a goldsmith named Johannes Gutenberg began experimenting in the German city of Mainz. "
            "[Gutenberg built a press that used movable metal type, small letters that could be arranged, "
            "inked, and reused.] {He borrowed the idea of the press itself from the machines that farmers used "
            "to squeeze grapes and olives.} [With his press, a small team of workers could print hundreds of "
            "pages in a single day.]",
            "The new technology spread quickly. {By 1500, printing shops were operating in more than two "
            "hundred European cities.} [Because printed books were much cheaper than handwritten ones, more "
            "ordinary people could buy them and learn to read.] Pamphlets, calendars, and news sheets joined "
            "the religious books that had filled the first shops.",
            "Printing also changed how people argued about ideas. [When Martin Luther criticized the Church "
            "in 1517, printers copied his writings so fast that they reached readers across Germany within "
            "weeks.] Leaders who had once controlled what people could read found it much harder to stop new "
            "opinions from spreading.",
            "Science gained as well. [Printed books allowed scholars in different countries to share exact "
            "copies of their findings, including diagrams and tables that hand copying often got wrong.] For "
            "this reason, many historians say that the printing press helped make the scientific revolution "
            "possible.",
        ),
        paraphrases=(
            (
                "Before the press, books had to be written out by hand, which took a long time and made them "
                "cost a lot.",
                "Books were really expensive and hard to find because every copy had to be written by hand.",
                "Scribes needed months to make one book, so only a few people had any.",
            ),
            (
                "Gutenberg invented a printing press with metal letters that could be moved around and used again.",
                "He made a machine with movable type that could be reused for new pages.",
            ),
            (
                "The press let a few workers make hundreds of pages every day.",
                "Printing was much faster than writing by hand, with hundreds of pages done in one day.",
            ),
            (
                "Since printed books cost less, regular people could afford them and more of them learned to read.",
                "Books became cheaper, so more common people bought them and became readers.",
            ),
            (
                "Martin Luther's ideas against the Church spread fast because printers made so many copies.",
                "Printing helped Luther's criticism of the Church reach people all over Germany in a few weeks.",
            ),
            (
                "Scientists could send the same exact copies of their work, with correct drawings, to each other "
                "in other countries.",
                "Printed books helped scientists share their discoveries without mistakes, which helped start the "
                "scientific revolution.",
            ),
        ),
    ),
    Prompt(
        title="How Vaccines Teach the Body",
        question="Summarize how vaccines protect people from disease. Use key details from the text.",
        topic="vaccines",
        paragraphs=(
            "Every day, the human body is exposed to bacteria and viruses that could make it sick. [The immune "
            "system is the body's defense network, made of white blood cells that find and destroy invading "
            "germs.] {Some white blood cells can live in the body for decades.}",
            "When a new germ enters the body for the first time, the immune system needs time to respond. "
            "[During a first infection, it can take a week or more for the body to make antibodies, proteins "
            "that attach to a specific germ and mark it for destruction.] During that delay, the germ can "
            "multiply and cause a serious illness.",
            "[After an infection is over, the body keeps memory cells that remember how to fight that exact "
            "germ.] If the same germ returns, these cells recognize it quickly and produce antibodies within "
            "hours. {This is why people who had measles as children almost never catch it again.}",
            "[A vaccine gives the body a harmless preview of a germ, such as a weakened or killed virus or just "
            "one of its proteins.] [The immune system responds to the vaccine by making memory cells, so the "
            "person is protected without having to get sick first.] {The first vaccine was developed by Edward "
            "Jenner in 1796, using material from cowpox sores.}",
            "Vaccines also protect people who cannot be vaccinated, such as newborn babies. [When most people "
            "in a community are immune, a disease has trouble spreading, an effect called herd immunity.] "
            "Because of worldwide vaccination, smallpox was declared eradicated in 1980.",
        ),
        paraphrases=(
            (
                "The immune system uses white blood cells to fight germs that get into the body.",
                "White blood cells are the body's defense and they kill germs.",
            ),
            (
                "The first time a germ gets in, the body takes about a week to make antibodies against it.",
                "Antibodies that attack a certain germ take a long time to be made the first time you are sick.",
            ),
            (
                "After being sick, the body keeps memory cells so it knows how to fight the germ next time.",
                "Memory cells remember the germ so the body can fight it faster if it comes back.",
            ),
            (
                "A vaccine shows the body a weak or dead version of a germ that cannot hurt you.",
                "Vaccines contain a harmless part of the virus so the body can get to know it.",
            ),
            (
                "Because of the vaccine the body makes memory cells, so you are protected without getting sick.",
                "The vaccine lets the immune system get ready before the real germ ever shows up.",
                "Vaccines make the body build memory cells, so you never have to catch the disease to be safe.",
            ),
            (
                "If most people are vaccinated, the disease cannot spread well, which is called herd immunity.",
                "Herd immunity happens when enough people are immune that a disease stops spreading.",
            ),
        ),
    ),
    Prompt(
        title="The Dust Bowl",
        question="Summarize the causes and effects of the Dust Bowl. Use key details from the text.",
        topic="the Dust Bowl",
        paragraphs=(
            "In the 1930s, a huge region of the American Great Plains turned into what people called the Dust "
            "Bowl. {The worst-hit areas were in Oklahoma, Texas, Kansas, Colorado, and New Mexico.} For almost "
            "a decade, storms of dry soil darkened the sky and buried farms.",
            "The disaster began with good intentions. [In the years before the drought, farmers plowed up "
            "millions of acres of native grassland to plant wheat.] {New gasoline tractors made it possible for "
            "one farmer to plow far more land than before.} [The deep roots of the prairie grasses had held the "
            "soil in place, and without them the topsoil was loose.]",
            "[When a severe drought struck in 1931, crops died and the dry, bare soil was picked up by strong "
            "winds.] [The dust storms, called black blizzards, could carry soil hundreds of miles and make day "
            "look like night.] {On April 14, 1935, a storm later named Black Sunday rolled across the plains "
            "like a dark wall.}",
            "The human cost was heavy. [Many families lost their farms and about 2.5 million people left the "
            "Plains, many of them heading to California in search of work.] Dust also filled people's lungs, "
            "and some children and older people died of an illness called dust pneumonia.",
            "[The government responded by teaching farmers to protect the soil, for example by planting rows "
            "of trees as windbreaks and rotating their crops.] {The Soil Conservation Service was created in "
            "1935 for this purpose.} When the rains returned in 1939, these methods helped the land recover.",
        ),
        paraphrases=(
            (
                "Farmers plowed up the grass on the plains so they could grow wheat.",
                "Before the drought, lots of prairie grass was torn up to make wheat farms.",
            ),
            (
                "The grass roots kept the dirt in place, so when the grass was gone the soil became loose.",
                "Without the grass roots holding it, the topsoil could easily blow away.",
            ),
            (
                "A drought in 1931 killed the crops and the wind blew the dry dirt away.",
                "When there was no rain, the plants died and strong winds lifted the soil.",
            ),
            (
                "Huge dust storms called black blizzards carried dirt for hundreds of miles and blocked out the sun.",
                "The black blizzards were so big they made the daytime dark.",
            ),
            (
                "Millions of people lost their farms and moved west to places like California to find jobs.",
                "About 2.5 million people had to leave the Plains because their farms failed.",
            ),
            (
                "The government showed farmers how to save the soil by planting trees to block the wind and "
                "changing their crops.",
                "To fix the problem, farmers learned to use windbreaks and crop rotation.",
            ),
        ),
    ),
    Prompt(
        title="Food from Light",
        question="Summarize how plants make their own food through photosynthesis. Use key details from the text.",
        topic="photosynthesis",
        paragraphs=(
            "Animals must eat to get energy, but most plants make their own food. A tree does not need to hunt or "
            "graze, yet it can grow taller than a house over many years. [The process that plants use "
            "to turn sunlight into food is called photosynthesis.] {The word comes from Greek words meaning "
            "light and putting together.}",
            "[Photosynthesis takes place mainly in the leaves, inside tiny structures called chloroplasts that "
            "contain a green pigment called chlorophyll.] [Chlorophyll absorbs energy from sunlight, especially "
            "red and blue light, and reflects green light, which is why leaves look green.]",
            "A plant also needs raw materials. [Roots take in water from the soil, and small openings on the "
            "leaves called stomata let in carbon dioxide from the air.] {A single leaf can have thousands of "
            "stomata on its underside.}",
            "[Using the energy from light, the plant combines water and carbon dioxide to make glucose, a sugar "
            "that stores energy.] The plant uses some of this sugar right away and stores the rest as starch in "
            "its roots, stems, and seeds. [Oxygen is released into the air as a by-product of the process.]",
            "At night, when there is no light, photosynthesis stops, and the plant lives on the sugar it stored "
            "during the day. Photosynthesis matters to almost every living thing on Earth. [Nearly all food chains begin with "
            "plants, and the oxygen that animals breathe comes from photosynthesis.] {Tiny ocean plants called "
            "phytoplankton produce about half of the world's oxygen.}",
        ),
        paraphrases=(
            (
                "Photosynthesis is how plants use sunlight to make food.",
                "Plants make food from the sun in a process called photosynthesis.",
            ),
            (
                "It happens in the leaves in chloroplasts, which have green chlorophyll in them.",
                "Inside leaves are chloroplasts that hold chlorophyll, and that is where photosynthesis happens.",
            ),
            (
                "Chlorophyll soaks up sunlight but bounces back green light, so leaves are green.",
                "Leaves look green because chlorophyll takes in red and blue light but not green.",
            ),
            (
                "The roots get water and the stomata in the leaves take in carbon dioxide.",
                "Plants need water from the ground and carbon dioxide from the air, which comes in through holes "
                "in the leaves.",
            ),
            (
                "The plant uses the light energy to turn water and carbon dioxide into a sugar called glucose.",
                "With energy from the sun, the plant makes glucose out of water and carbon dioxide.",
            ),
            (
                "Oxygen is given off into the air during photosynthesis.",
                "The plant lets out oxygen as a leftover.",
            ),
            (
                "Almost every food chain starts with plants, and we breathe the oxygen they make.",
                "Animals depend on plants for food and for the oxygen in the air.",
            ),
        ),
    ),
    Prompt(
        title="The Hero's Journey",
        question="Summarize the stages of the hero's journey as the text describes them. "
        "Use key details from the text.",
        topic="the hero's journey",
        paragraphs=(
            "Stories from very different times and places often follow a similar pattern. {In 1949, the writer "
            "Joseph Campbell described this pattern in a book called The Hero with a Thousand Faces.} [He "
            "called the pattern the hero's journey, and he argued that it appears in myths from cultures all "
            "over the world.]",
            "[The journey begins in the ordinary world, where the hero lives a normal life until a call to "
            "adventure disrupts it.] The call might be a message, a threat, or a stranger at the door. [Often "
            "the hero refuses the call at first, out of fear or a sense of duty to home.]",
            "[A mentor then appears to give the hero advice, training, or a special gift that will help on the "
            "journey.] {In many stories, the mentor is an older figure, such as a wizard or a wise teacher.} "
            "With this help, the hero crosses the threshold into an unfamiliar world full of danger.",
            "[In the new world, the hero faces a series of tests and finally a great ordeal, a moment when he "
            "or she seems close to defeat or even death.] Surviving this ordeal changes the hero, who often "
            "gains a reward such as a treasure, knowledge, or a new understanding of himself or herself.",
            "[Finally, the hero returns home, bringing back what was gained to help the ordinary world.] "
            "{Modern films and novels still borrow this pattern, sometimes on purpose.} Readers respond to the "
            "journey, Campbell believed, because it mirrors the changes that every person goes through while "
            "growing up.",
        ),
        paraphrases=(
            (
                "Campbell said many stories around the world follow the same pattern called the hero's journey.",
                "The hero's journey is a pattern that shows up in myths from lots of different cultures.",
            ),
            (
                "At the start the hero has a normal life until something calls them to go on an adventure.",
                "The hero lives in the ordinary world until a call to adventure changes everything.",
            ),
            (
                "The hero usually says no to the adventure at first because they are scared.",
                "At first the hero does not want to go and turns the call down.",
            ),
            (
                "A mentor helps the hero by teaching them or giving them something special.",
                "Then a wise helper called a mentor gives the hero advice or a gift.",
            ),
            (
                "The hero goes through tests and a big ordeal where it seems like they might lose or die.",
                "In the new world there are many challenges and one huge ordeal that almost defeats the hero.",
            ),
            (
                "In the end the hero comes back home and uses what they got to help people there.",
                "The last stage is the return, when the hero brings something back to the ordinary world.",
            ),
        ),
    ),
    Prompt(
        title="Building the Transcontinental Railroad",
        question="Summarize how the transcontinental railroad was built and why it mattered. "
        "Use key details from the text.",
        topic="the railroad",
        paragraphs=(
            "In the 1850s, traveling from the east coast of the United States to California could take six "
            "months by wagon or by ship. [In 1862, Congress passed the Pacific Railway Act to build a railroad "
            "that would connect the eastern rail network to the Pacific coast.] {President Abraham Lincoln "
            "signed the act during the Civil War.}",
            "[Two companies did the work: the Central Pacific built east from Sacramento, and the Union Pacific "
            "built west from Nebraska.] [The government paid the companies with land and loans for every mile "
            "of track they laid, so the companies raced each other.]",
            "[The Central Pacific hired thousands of Chinese immigrants, who did some of the most dangerous "
            "work, blasting tunnels through the Sierra Nevada mountains.] They were paid less than white "
            "workers, and many died in explosions and avalanches. {At its peak, the Central Pacific's workforce "
            "was about eighty percent Chinese.} {The Union Pacific relied heavily on Irish immigrants and Civil "
            "War veterans.}",
            "[On May 10, 1869, the two lines met at Promontory Summit in Utah, where a golden spike was driven "
            "to mark the completion.] News of the event was sent across the country by telegraph, "
            "and cities from New York to San Francisco celebrated with parades.",
            "[The railroad cut the trip across the country to about a week and made it far cheaper to move "
            "people and goods.] But the railroad also brought settlers, hunters, and soldiers onto the Plains. "
            "[It sped up the destruction of the buffalo herds and the loss of Native American lands.]",
        ),
        paraphrases=(
            (
                "Congress passed a law in 1862 to build a railroad all the way to the Pacific.",
                "The Pacific Railway Act said a railroad should be built to link the east to the west coast.",
            ),
            (
                "The Central Pacific started in Sacramento going east and the Union Pacific started in Nebraska "
                "going west.",
                "Two railroad companies built the track from opposite ends.",
            ),
            (
                "The companies got land and money for each mile they built, so they competed to build fast.",
                "Because the government paid them by the mile, the two companies raced.",
            ),
            (
                "Chinese workers were hired to do dangerous jobs like blasting tunnels in the mountains.",
                "Thousands of Chinese immigrants worked on the Central Pacific and blew up rock to make tunnels "
                "through the Sierra Nevada.",
            ),
            (
                "The tracks met in Utah in 1869 and they hammered in a golden spike.",
                "The railroad was finished at Promontory Summit when a golden spike was put in.",
            ),
            (
                "After it was done, crossing the country took only a week and cost much less.",
                "The railroad made travel and shipping across the country much faster and cheaper.",
            ),
            (
                "It also hurt Native Americans because the buffalo were killed and their land was taken.",
                "The railroad helped destroy the buffalo herds, and Native Americans lost their land.",
            ),
        ),
    ),
    Prompt(
        title="Earthquakes and Moving Plates",
        question="Summarize how the movement of tectonic plates causes earthquakes. Use key details from the text.",
        topic="earthquakes",
        paragraphs=(
            "The ground beneath our feet seems solid and still, but it is always moving. [Earth's outer shell "
            "is broken into giant pieces called tectonic plates, which float on a layer of hot, slowly flowing "
            "rock.] {The plates move only a few centimeters each year, about as fast as fingernails grow.}",
            "[Most earthquakes happen along the boundaries where two plates meet.] [At some boundaries the "
            "plates pull apart, at others they push together, and at others they slide past each other.] {The "
            "San Andreas Fault in California is a famous example of plates sliding past each other.}",
            "[The edges of the plates are rough, so they often get stuck while the rest of the plate keeps "
            "moving, and stress builds up in the rocks.] [When the stress becomes too great, the rocks suddenly "
            "break and slip, releasing energy as waves that shake the ground.] The point underground where the "
            "rocks break is called the focus, and the place on the surface directly above it is called the "
            "epicenter.",
            "[Scientists measure earthquakes with instruments called seismometers, and they describe an "
            "earthquake's strength with the moment magnitude scale.] Each whole number on the scale means about "
            "thirty-two times more energy. {The strongest earthquake ever recorded struck Chile in 1960 with a "
            "magnitude of 9.5.}",
            "Most earthquakes are too small for people to feel, but large ones can knock down buildings and "
            "cause tsunamis. Scientists still cannot predict exactly when an earthquake will strike. Instead, communities in "
            "earthquake zones prepare by building stronger structures and practicing safety drills.",
        ),
        paraphrases=(
            (
                "The Earth's surface is made of huge plates that move on hot rock.",
                "Tectonic plates are big pieces of the Earth's crust that float and slowly move.",
            ),
            (
                "Earthquakes mostly happen where plates touch each other.",
                "Most quakes are at plate boundaries, where two plates come together.",
            ),
            (
                "Plates can move apart, crash together, or slide past one another.",
                "At plate boundaries the plates either separate, collide, or slide sideways.",
            ),
            (
                "The plate edges get stuck and pressure builds up in the rock.",
                "Because the edges are rough, the plates lock together and stress grows.",
            ),
            (
                "When there is too much stress, the rock breaks and the energy shakes the ground.",
                "The rocks suddenly slip and send out waves, and that is the earthquake.",
            ),
            (
                "Seismometers measure earthquakes and the strength is given on the moment magnitude scale.",
                "Scientists use seismometers and a magnitude scale to tell how strong a quake is.",
            ),
        ),
    ),
    Prompt(
        title="The Harlem Renaissance",
        question="Summarize what the Harlem Renaissance was and why it was important. "
        "Use key details from the text.",
        topic="the Harlem Renaissance",
        paragraphs=(
            "In the 1920s, the New York City neighborhood of Harlem became the center of an explosion of Black "
            "art, music, and writing. [This movement, later called the Harlem Renaissance, celebrated African "
            "American culture and identity.]",
            "[The movement grew out of the Great Migration, when hundreds of thousands of Black Americans moved "
            "from the rural South to cities in the North.] [They were escaping segregation laws and violence "
            "and looking for jobs in factories.] {Harlem's Black population more than doubled during the "
            "1920s.}",
            "[Writers such as Langston Hughes and Zora Neale Hurston wrote poems and stories about the everyday "
            "lives of Black people, often using the rhythms of blues and spoken language.] {Hughes published "
            "his first book of poems, The Weary Blues, in 1926.} Hurston collected folktales in the South and "
            "used them in her novels, which were full of humor and strong characters.",
            "[Jazz was at the heart of the Harlem Renaissance, and musicians like Duke Ellington and Louis "
            "Armstrong played in clubs that drew crowds from all over the city.] {The Cotton Club, one of the "
            "most famous, did not allow Black customers even though its performers were Black.}",
            "[Artists of the movement wanted to challenge racist stereotypes by showing the talent and dignity "
            "of Black Americans.] The Great Depression of the 1930s brought the movement to an end, but its "
            "influence did not fade. [Its writers and musicians inspired later artists and the civil rights "
            "movement of the 1950s and 1960s.]",
        ),
        paraphrases=(
            (
                "The Harlem Renaissance was a movement in the 1920s that celebrated Black culture.",
                "It was a time when African American art and identity were celebrated in Harlem.",
            ),
            (
                "It started because of the Great Migration, when many Black people moved from the South to "
                "northern cities.",
                "Lots of African Americans moved north in the Great Migration, which led to the movement.",
            ),
            (
                "They left to get away from segregation and violence and to find factory jobs.",
                "People moved to escape unfair laws and to find work.",
            ),
            (
                "Langston Hughes and Zora Neale Hurston wrote about ordinary Black life using blues rhythms.",
                "Writers like Hughes and Hurston told stories about the daily lives of Black people.",
            ),
            (
                "Jazz musicians like Duke Ellington and Louis Armstrong were a big part of it.",
                "Jazz music was at the center of the movement and was played in famous clubs.",
            ),
            (
                "The artists wanted to fight racist stereotypes by showing Black talent.",
                "They wanted to prove stereotypes wrong by showing the dignity of Black Americans.",
            ),
            (
                "The movement inspired later artists and the civil rights movement.",
                "Even after it ended, it influenced the civil rights movement.",
            ),
        ),
    ),
    Prompt(
        title="Coral Reefs Under Threat",
        question="Summarize why coral reefs are important and what threatens them. Use key details from the text.",
        topic="coral reefs",
        paragraphs=(
            "Coral reefs look like colorful underwater rocks, but they are built by living animals. [Corals are "
            "tiny animals called polyps that build hard skeletons of limestone, and over thousands of years "
            "these skeletons form reefs.] {The Great Barrier Reef off Australia is so large it can be seen from "
            "space.}",
            "[Reefs cover less than one percent of the ocean floor, yet they are home to about a quarter of all "
            "ocean species.] [They also protect coastlines by breaking up waves during storms, and they provide "
            "food and tourism income for millions of people.]",
            "[Most corals get their food from tiny algae that live inside their tissues and give the coral its "
            "color.] [When the water becomes too warm, the corals push out the algae and turn white, a process "
            "called coral bleaching.] {A bleached coral is not dead, but it is starving.} If the water stays "
            "hot for too long, the coral dies.",
            "[Rising ocean temperatures caused by climate change have made bleaching events more frequent and "
            "more severe.] Other threats add to the damage. [Pollution from farms and cities, overfishing, and "
            "careless boat anchors all harm reefs.]",
            "Scientists and communities are working to protect reefs by creating marine parks where fishing is "
            "limited. Divers are taught not to touch or stand on the fragile corals. {Some researchers are even growing coral in underwater nurseries and replanting it on "
            "damaged reefs.}",
        ),
        paraphrases=(
            (
                "Reefs are made by tiny animals called polyps that build skeletons out of limestone.",
                "Coral polyps make hard skeletons, and over a long time these turn into reefs.",
            ),
            (
                "Even though reefs are a small part of the ocean, a quarter of sea creatures live there.",
                "About 25 percent of ocean species live on reefs.",
            ),
            (
                "Reefs protect the coast from storm waves and give people food and tourist money.",
                "They help people by stopping big waves and bringing in food and tourism.",
            ),
            (
                "Corals get food from algae living inside them, which also gives them color.",
                "Tiny algae inside the coral feed it and make it colorful.",
            ),
            (
                "If the water gets too hot, corals kick out the algae and turn white, which is called bleaching.",
                "Coral bleaching happens when warm water makes the coral lose its algae.",
            ),
            (
                "Climate change is making the ocean warmer, so bleaching happens more often.",
                "Because of global warming, bleaching is getting worse.",
            ),
            (
                "Pollution, overfishing, and boat anchors also damage reefs.",
                "Reefs are also hurt by pollution and too much fishing.",
            ),
        ),
    ),
    Prompt(
        title="Why Writers Use Metaphor",
        question="Summarize how and why writers use metaphors, according to the text. "
        "Use key details from the text.",
        topic="metaphors",
        paragraphs=(
            'When a poet writes that "hope is the thing with feathers," no reader imagines that hope is '
            "actually a bird. [A metaphor describes one thing as if it were another, different thing, in order "
            "to show a similarity between them.] {That line was written by Emily Dickinson in the 1860s.}",
            "[Unlike a simile, which uses the words like or as, a metaphor makes its comparison directly.] "
            "Saying that a classroom is like a zoo is a simile, while saying that the classroom is a zoo is a "
            "metaphor. [Because it is more direct, a metaphor often feels stronger and more surprising to a "
            "reader.]",
            "[Writers use metaphors to help readers understand ideas that are abstract or hard to describe, "
            "such as emotions or time.] It is difficult to explain exactly what grief feels like, but calling "
            "it a heavy stone that a person carries everywhere gives the reader something they can picture and "
            "almost feel.",
            "[Metaphors can also reveal a character's attitude or a speaker's point of view.] {A character who "
            "calls her job a prison tells us much more than one who simply says she dislikes it.} [Some "
            "metaphors run through an entire poem or story, and these extended metaphors can tie the whole "
            "work together.]",
            "We also use metaphors every day without noticing them. {When people say that time is running out "
            "or that someone has a heart of gold, they are speaking in metaphors.} Learning to spot them helps "
            "readers see how much meaning a few words can carry.",
        ),
        paraphrases=(
            (
                "A metaphor compares two different things by saying one thing is the other.",
                "Metaphors describe something as if it were something else to show how they are alike.",
            ),
            (
                "A simile uses like or as, but a metaphor compares things without them.",
                "The difference from a simile is that a metaphor does not use like or as.",
            ),
            (
                "Metaphors are more direct, so they feel stronger to readers.",
                "A metaphor can surprise the reader more than a simile does.",
            ),
            (
                "Writers use metaphors to explain hard ideas like feelings or time.",
                "Metaphors make abstract things like emotions easier to understand.",
            ),
            (
                "A metaphor can show how a character or speaker feels about something.",
                "Metaphors can tell us what a character's attitude is.",
            ),
            (
                "An extended metaphor goes through a whole poem or story and connects it.",
                "Some metaphors last the whole story and tie it together.",
            ),
        ),
    ),
    Prompt(
        title="The Silk Road",
        question="Summarize how the Silk Road connected distant parts of the world. Use key details from the text.",
        topic="the Silk Road",
        paragraphs=(
            "[The Silk Road was not a single road but a network of trade routes that connected China with "
            "Central Asia, the Middle East, and Europe.] {The name was invented in the 1870s by a German "
            "geographer.} The routes were used for more than fifteen hundred years, and they stretched for over four "
            "thousand miles across some of the harshest land on Earth.",
            "[Chinese silk was the most famous product carried west, and wealthy Romans paid enormous prices "
            "for it.] [In return, merchants carried gold, glass, horses, and wool toward China.] {For "
            "centuries, the Chinese kept the method of making silk a closely guarded secret.}",
            "[Few traders traveled the whole route; instead, goods passed from merchant to merchant through "
            "busy oasis cities such as Samarkand.] [Traveling in camel caravans across deserts and mountains "
            "was slow and dangerous, because of bandits, storms, and lack of water.]",
            "[Ideas traveled along with goods, and Buddhism spread from India into China along these routes.] "
            "{Papermaking moved from China to the Islamic world and later to Europe, and new foods, such as "
            "grapes and spices, found new homes.}",
            "[Diseases also traveled the Silk Road, and many historians believe that the Black Death reached "
            "Europe in the 1300s along its trade routes.] When sea routes became safer and cheaper in the 1400s, "
            "trade on the old land routes slowly declined. The Silk Road shows that the world was connected long "
            "before airplanes and the internet.",
        ),
        paraphrases=(
            (
                "The Silk Road was many trade routes that linked China to Europe and the Middle East.",
                "It was a network of routes connecting China with other parts of the world.",
            ),
            (
                "Silk from China was the most famous good, and rich Romans paid a lot for it.",
                "The Romans loved Chinese silk and spent huge amounts of money on it.",
            ),
            (
                "Traders brought gold, glass, horses, and wool back to China.",
                "China got things like gold and horses in exchange.",
            ),
            (
                "Goods were passed between many merchants in oasis cities instead of one trader going the whole way.",
                "Most merchants only went part of the way and traded in cities like Samarkand.",
            ),
            (
                "Caravans of camels crossed deserts and mountains, which was slow and risky because of bandits.",
                "Traveling the routes was dangerous, with robbers, storms, and little water.",
            ),
            (
                "Religions like Buddhism spread along the routes along with goods.",
                "Ideas moved too, like Buddhism going from India to China.",
            ),
            (
                "Diseases such as the Black Death may have spread to Europe on the Silk Road.",
                "The plague probably traveled to Europe along the trade routes.",
            ),
        ),
    ),
    Prompt(
        title="How Honeybees Communicate",
        question="Summarize how honeybees share information with each other. Use key details from the text.",
        topic="honeybees",
        paragraphs=(
            "A honeybee colony can contain tens of thousands of bees, and they must work together to survive. "
            "[Forager bees fly out to find flowers, and when they find a good source of nectar they return to "
            "the hive to tell the others.] {A single forager may visit hundreds of flowers in one trip.}",
            "[In the 1940s, the Austrian scientist Karl von Frisch discovered that bees communicate the "
            "location of food through dances.] {He later won a Nobel Prize for this work.} [When food is close "
            "to the hive, a bee performs a round dance, circling one way and then the other.]",
            "[For food farther away, the bee performs a waggle dance, running in a straight line while shaking "
            "its body and then looping back to repeat.] [The angle of the straight run compared with straight "
            "up on the honeycomb shows the direction of the food compared with the direction of the sun.] [The "
            "longer the bee waggles, the farther away the food is.]",
            "[Bees also communicate with scent, releasing chemicals called pheromones that can signal alarm or "
            "help bees find their way.] {A guard bee that stings an intruder releases an alarm pheromone that "
            "calls other bees to defend the hive.}",
            "Other bees learn the dance by following the dancer closely in the dark hive and feeling her "
            "movements with their antennae. This language allows the whole colony to act like one organism, "
            "quickly sending workers to the best flowers.",
        ),
        paraphrases=(
            (
                "Forager bees find flowers and go back to the hive to tell the other bees.",
                "When a bee finds good nectar it returns to share the news.",
            ),
            (
                "Karl von Frisch found out that bees dance to show where food is.",
                "A scientist discovered that bees use dances to communicate.",
            ),
            (
                "If food is nearby the bee does a round dance in circles.",
                "The round dance means the food is close to the hive.",
            ),
            (
                "For food that is far away, bees do a waggle dance where they shake while walking straight.",
                "The waggle dance is for faraway food, and the bee wiggles its body.",
            ),
            (
                "The direction of the dance shows which way to fly compared to the sun.",
                "The angle of the waggle run tells the direction of the food based on the sun.",
            ),
            (
                "The longer the waggle, the farther the food.",
                "How long the bee waggles shows how far away the food is.",
            ),
            (
                "Bees also use smells called pheromones to send alarm signals or guide each other.",
                "Pheromones are chemicals bees give off to warn or guide the other bees.",
            ),
        ),
    ),
)

# What a student writes that says nothing about the passage ({topic}, {Topic}, {title} are filled in).
FILLER = (
    "This text is about {topic}.",
    "I think the author wants us to know about {topic}.",
    'In the text "{title}", the author talks about a lot of things.',
    "This was a very interesting article.",
    "There are many important details in the text.",
    "I learned a lot from reading this.",
    "That is what the text is mostly about.",
    "The author explains this in many ways.",
    "In conclusion, {topic} is very important.",
    "{Topic} is something everyone should learn about.",
    "The text gives a lot of information.",
)
# Claims no passage makes: a student who misread or confused texts.
INVENTED = (
    "The author says that {topic} was mostly a waste of time and money.",
    "{Topic} only mattered in one small town.",
    "The text says {topic} was discovered by accident by a group of kids.",
    "In the end, everyone agreed that {topic} did not really matter.",
    "The author thinks {topic} will be gone in ten years.",
    "Most people back then were against {topic} because it was too expensive.",
)
