"""A generated corpus of instructions, each word tagged with its slot, for training the instruction reader.

Each example is a `StructuredTask` put into words the way people at a workbench talk: polite and indirect requests,
fillers and trailing remarks, questions worded many ways, goal-level requests, the trade's and regional words,
informal size words, word-order changes and a few typos. Tool, colour and container words come from the catalog
(`vocabulary`), so a new category is in the corpus without an edit here; the English around them is written here.
Each word carries one tag (`TAGS`): which slot it says, or "O".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workbench_gym.language.task import HANDOVER, PARTS_TRAY, UNLISTED, StructuredTask, ToolReference, missing_slots
from workbench_gym.language.vocabulary import COLOUR_SYNONYMS, SIDE_WORDS, SIZE_WORDS, family_category, plural, vocabulary
from workbench_gym.scenes import catalog

#: Word tags: a tool's name, a colour, an absolute size, an order word, a relation, a container, or none of these.
TAGS = ("O", "TOOL", "COLOUR", "SIZE_small", "SIZE_medium", "SIZE_large", "ORDER_largest", "ORDER_smallest", "ORDER_leftmost",
        "ORDER_rightmost", "REL_nearest_tray", "CONT")
#: Paraphrase families (for tests and per-family accuracy): what makes an example's wording what it is.
FAMILIES = ("plain", "polite", "indirect", "filler", "trailing", "question", "goal", "reordered", "typo", "unclear", "reply")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")

Tagged = list[tuple[str, str]]


def words_of(text: str) -> list[str]:
    """The reader's words: runs of letters and digits (hyphens and apostrophes inside), and punctuation marks."""
    return _WORD.findall(text)


def tag(text: str, label: str = "O") -> Tagged:
    return [(w, label) for w in words_of(text)]


def fill(frame: str, **slots: Tagged) -> Tagged:
    """A frame's words tagged "O" with each {slot} replaced by its tagged words."""
    out: Tagged = []
    for i, part in enumerate(re.split(r"\{(\w+)\}", frame)):
        out += slots[part] if i % 2 else tag(part)
    return out


@dataclass(frozen=True)
class Example:
    """One generated sentence: its words, their tags, its meaning (None for a reply, which has no intent)."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    task: StructuredTask | None
    family: str

    @property
    def text(self) -> str:
        return re.sub(r" ([,.?!;:])", r"\1", " ".join(self.words))


# --- English around the catalog's words --------------------------------------------------------------------------

POLITE = ("please", "please,", "could you", "can you", "would you", "will you", "could you please", "can you please",
          "would you please", "kindly", "if you could", "if you would", "be so kind and")
GERUND_POLITE = ("would you mind", "do you mind", "how about", "could you try", "can you try", "mind")
INDIRECT = ("I'd like you to", "I want you to", "I need you to", "I would like you to", "it would be great if you could",
            "I'd appreciate it if you could", "your next job is to", "the next thing is to", "what I need is for you to",
            "I was hoping you could", "do me a favour and", "do me a favor and", "be a pal and", "go ahead and", "let's",
            "time to", "next, please", "now I'd like you to", "I'd love it if you'd", "is it possible to", "try to", "just",
            "I was wondering whether you might be able to", "so what I'd like, if it's not too much trouble, is for you to",
            "before I forget, could you", "when you've got a moment, I'd really appreciate it if you could",
            "what would help me most right now is if you could", "I think the next step is to", "you'll need to",
            "I reckon you should", "the plan is to", "our next job:", "I'm going to ask you to", "first things first,")
FILLERS = ("hey,", "hey robot,", "ok,", "okay,", "right,", "so,", "alright,", "now,", "next,", "um,", "er,", "erm,", "uh,",
           "well,", "oh,", "right then,", "robot,", "hi,", "hello,", "listen,", "first,", "oh and", "and", "then", "quick one:",
           "when you get a sec,", "when you have a moment,", "sorry,", "excuse me,", "one more thing:", "ok so", "yeah,",
           "good,", "great,", "cheers,", "mate,", "buddy,", "morning!", "good morning,", "hope you're well;",
           "nice day, isn't it? anyway,", "right, where were we,", "phew, busy day.", "lovely, thanks.", "so anyway,")
SUFFIXES = ("please", "for me", "thanks", "thank you", "cheers", "ta", "if you don't mind", "when you get a chance",
            "right now", "quickly", "now", "would you?", "could you?", "will you?", "asap", "straight away", "mate",
            "if you can", "please and thank you", "thanks a lot", "if that's ok", "when you're ready", "no rush",
            "whenever", "for a second", "real quick", "cheers mate", "buddy", "okay?", "yeah?", "thanks!", "please!")
TRAILING = ("it's somewhere on the bench", "I think it's around here somewhere", "it should be lying on the bench",
            "I need it for a job", "I've got a bolt to loosen", "I need to tighten some screws", "I'm fixing a shelf",
            "it's in that pile somewhere", "I can't find it myself", "my hands are full", "I'll need it in a minute",
            "the bench is a mess", "we're almost done here", "it's for the cabinet door", "I want to hang a picture",
            "I dropped mine", "it's the one I was using earlier", "it's buried under the other stuff",
            "it should be easy to spot", "I need to knock a nail in", "the hinge is loose", "we're fixing the bike",
            "I left it there this morning", "it's among the other tools", "it's the only one I need",
            "my own is broken", "I have a nut to undo", "it's for the fence", "then we're done", "sorry about the mess",
            "I'll tell you what's next after", "the customer is waiting", "no hurry", "it's been a long day",
            "I'm halfway through a repair", "that would help a lot", "you can't miss it", "it's lying flat",
            "it's right there in front of you", "I want to check something", "mind the other tools",
           # remarks with words that are slots elsewhere, here saying nothing about the tool
           "it's a big job", "I've got a fiddly little repair to do", "there's a large crate to open", "the red door is sticking",
           "we have a small problem", "it's the last big job today", "the blue van is waiting outside", "I need to loosen a big nut",
           "it's for a tiny screw in the hinge", "the left door hinge is loose", "the biggest job is done", "it's a long day",
           "I have a huge pile of work", "the little one is asleep", "there's a small leak under the sink", "the green shed needs a shelf",
           "mine's the old black one at home", "I'm working on the right-hand cabinet", "the smallest thing takes longest",
           "I've got a wobbly table leg", "the bolts on the gate are rusty", "the screws in the shelf came loose",
           "it's for the tray table in the kitchen", "just a quick fix", "I'll put it back in the box after")
WHERE_REMARKS = ("on the bench", "on the workbench", "over there", "from the bench", "lying there", "off the bench",
                 "on the table", "there", "in front of you", "from the pile", "near the front", "towards the back",
                 "somewhere in the clutter", "among the other tools", "in that mess", "by your gripper", "out there")
THANKS = ("thanks", "thank you", "cheers", "ta", "much appreciated", "great", "perfect", "lovely", "cool", "nice one")


# --- words for the slots ------------------------------------------------------------------------------------------

def _case(rng: np.random.Generator, text: str) -> str:
    r = rng.random()
    return text.lower() if r < 0.6 else text if r < 0.9 else text.capitalize()


def _hyphen_variant(rng: np.random.Generator, text: str) -> str:
    """"needle-nose" as typed: with the hyphen, a space, or run together."""
    if "-" not in text:
        return text
    r = rng.random()
    return text if r < 0.6 else text.replace("-", " ") if r < 0.85 else text.replace("-", "")


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _names_of(category: str) -> list[str]:
    """Ways to name one catalog category: display name, aliases, the display name's distinguishing part, and,
    for the only member of a family, the family's word."""
    vocab = vocabulary()
    cat = catalog.CATALOG[category]
    out = [cat.display, *cat.aliases]
    family = vocab.family_words[cat.family]
    if vocab.families[cat.family] == (category,):
        out.append(family)
    shown, head = cat.display.split(), family.split()
    if len(shown) > len(head) and [w.lower() for w in shown[-len(head):]] == [w.lower() for w in head]:
        out.append(" ".join(shown[: -len(head)]))
    if "screwdriver" in cat.display.lower():  # how people say a screwdriver's tip
        tip = cat.display.split()[0]
        out += [f"{tip}-head screwdriver", f"{tip} head screwdriver", f"{tip}-head"]
    return list(dict.fromkeys(out))


#: Informal words for a whole family, beyond the catalog's family word.
FAMILY_INFORMAL = {"screwdriver": ("driver", "screw driver"), "pliers": ("pair of pliers", "plier"), "tape_measure": ("tape",),
                   "allen_key": ("Allen wrench", "hex key")}
#: Tools no catalog category is: what people ask for that the bench lacks.
UNLISTED_TOOLS = ("torque wrench", "pipe wrench", "socket wrench", "rubber mallet", "mallet", "utility knife", "box cutter",
                  "Stanley knife", "hacksaw", "saw", "chisel", "wood chisel", "spirit level", "level", "soldering iron",
                  "drill", "cordless drill", "hammer drill", "impact driver", "nut driver", "wire strippers", "wire cutters",
                  "side cutters", "bolt cutters", "tin snips", "locking pliers", "Vise-Grips", "multimeter", "stapler",
                  "staple gun", "glue gun", "caulk gun", "pry bar", "crowbar", "sledgehammer", "ball-peen hammer", "file",
                  "rasp", "putty knife", "scraper", "paintbrush", "heat gun", "clamp", "C-clamp", "G-clamp", "ratchet",
                  "awl", "centre punch", "nail set", "tape gun", "calipers", "micrometer", "flashlight", "torch",
                  "hand plane", "trowel", "stud finder", "angle grinder", "jigsaw", "sander", "pencil", "marker",
                  "chalk line", "try square", "speed square", "safety glasses", "work gloves", "Torx screwdriver",
                  "circlip pliers", "crimping tool", "pop rivet gun", "socket set", "breaker bar", "oil can",
                  "grease gun", "hex bit", "drill bit", "wood glue", "sandpaper", "craft knife", "scissors", "tweezers")
PLURAL_UNLISTED = ("washers", "nails", "rivets", "drill bits", "zip ties", "clamps", "staples", "wing nuts", "cable ties")
COLOUR_FORMS = ("{c}", "{c}", "{c}", "{c}-handled", "{c} coloured", "{c}-coloured", "{c} colored")
COLOUR_POST = ("with the {c} handle", "with a {c} handle", "that's {c}", "that is {c}", "in {c}", "which is {c}",
               "with the {c} grip", "with {c} handles", ", the {c} one,", ", the {c} ones,", "- the {c} one", "(the {c} one)")
SIZE_EXTRA = {"small": ("small-sized", "pint-sized", "little-ish", "baby", "petite", "smaller-sized", "dinky", "tiddly",
                        "itsy-bitsy", "miniature", "compact", "short-handled"),
              "medium": ("medium-size", "mid-sized", "middling", "in-between", "normal-sized", "standard-sized", "average-size",
                         "regular", "middle-size", "mid-length", "moderate-sized", "medium-length"),
              "large": ("large-sized", "oversized", "massive", "whopping", "bigger-sized", "king-size", "hulking", "beefy",
                        "mammoth", "long-handled", "great big", "heavy-duty")}
ORDER_PRE = {"largest": ("largest", "biggest", "longest", "heftiest", "largest-size", "most massive", "chunkiest"),
             "smallest": ("smallest", "tiniest", "shortest", "littlest", "stubbiest", "teeniest", "smallest-size"),
             "leftmost": ("leftmost", "left-most", "left-hand-most", "far-left", "farthest-left", "furthest-left"),
             "rightmost": ("rightmost", "right-most", "right-hand-most", "far-right", "farthest-right", "furthest-right")}
ORDER_POST = {"largest": ("that's the biggest", "that is largest", "that's the longest", "that's biggest of all",
                          "which is the largest", "with the longest handle", "the biggest one", "the largest one"),
              "smallest": ("that's the smallest", "that is shortest", "that's tiniest", "which is the smallest",
                           "the smallest one", "the shortest one", "that's the littlest"),
              "leftmost": ("on the far left", "furthest to the left", "farthest to the left", "at the far left",
                           "on the very left", "on the left end", "on the extreme left", "most to the left",
                           "all the way on the left", "on the left", "on the left-hand side", "to the far left",
                           "way over on the left", "on your left"),
              "rightmost": ("on the far right", "furthest to the right", "farthest to the right", "at the far right",
                            "on the very right", "on the right end", "on the extreme right", "most to the right",
                            "all the way on the right", "on the right", "on the right-hand side", "to the far right",
                            "way over on the right", "on your right")}
#: Order phrases around the noun: {n} the plural, {s} the singular ("whichever spanner is longest").
ORDER_OF = {"largest": ("the biggest of the {n}", "the largest of the {n}", "the longest of the {n}",
                        "whichever of the {n} is biggest", "the largest one of the {n}", "the biggest one among the {n}",
                        "whichever {s} is biggest", "whichever {s} is the largest one", "the {s} that's the biggest one",
                        "whichever {s} is longest", "the one of the {n} that is largest"),
            "smallest": ("the smallest of the {n}", "the tiniest of the {n}", "the shortest of the {n}",
                         "whichever of the {n} is smallest", "the smallest one of the {n}", "the littlest of the {n}",
                         "whichever {s} is smallest", "whichever {s} is the shortest one", "the {s} that's the smallest one",
                         "the one of the {n} that is smallest"),
            "leftmost": ("the leftmost of the {n}", "the one furthest left of the {n}", "of the {n}, the one on the far left",
                         "whichever {s} is furthest left", "whichever {s} is the leftmost one", "the {s} that's furthest to the left",
                         "whichever of the {n} is on the far left", "whichever {s} is leftmost"),
            "rightmost": ("the rightmost of the {n}", "the one furthest right of the {n}", "of the {n}, the one on the far right",
                          "whichever {s} is furthest right", "whichever {s} is the rightmost one", "the {s} that's furthest to the right",
                          "whichever of the {n} is on the far right", "whichever {s} is rightmost")}
TRAY_NAMES = ("tray", "parts tray", "small-parts tray", "small parts tray", "small parts container", "parts container",
              "little tray", "tray for small parts", "compartment tray", "parts tray thing")
RELATION_FORMS = ("nearest the {t}", "closest to the {t}", "next to the {t}", "nearest to the {t}", "beside the {t}",
                  "that is closest to the {t}", "which is nearest the {t}", "that's sitting closest to the {t}",
                  "by the {t}", "right by the {t}", "that's closest to the {t}", "near the {t}", "that's next to the {t}",
                  "sitting by the {t}", "lying next to the {t}", "closest the {t}", "by the side of the {t}",
                  "that's nearest the {t}", "just by the {t}", "up against the {t}")
BIN_NOUNS = ("bin", "bin", "bin", "box", "tub", "container", "crate", "basket", "bucket", "tote")
SIDE_FORMS = {"left": ("left", "left-hand", "leftmost", "far left"), "middle": ("middle", "centre", "center", "central", "middle"),
              "right": ("right", "right-hand", "rightmost", "far right")}
SIDE_POST = {"left": ("on the left", "on the left-hand side", "to the left", "at the left", "furthest left", "over on the left"),
             "middle": ("in the middle", "in the centre", "in the center", "between the other two", "at the centre"),
             "right": ("on the right", "on the right-hand side", "to the right", "at the right", "furthest right", "over on the right")}
HANDOVER_NAMES = ("hand-over area", "handover area", "hand-over zone", "hand over spot", "handover spot", "hand-over area in front of me")
DETERMINERS = ("the", "the", "the", "the", "that", "this", "your", "the", "")


def _colour_word(rng: np.random.Generator, colour: str) -> str:
    synonyms = [w for w, c in COLOUR_SYNONYMS.items() if c == colour] + (["gray"] if colour == "grey" else [])
    return _choice(rng, synonyms) if synonyms and rng.random() < 0.25 else colour


def _size_word(rng: np.random.Generator, size: str) -> str:
    options = SIZE_WORDS[size] + SIZE_EXTRA[size]
    return size if rng.random() < 0.35 else _choice(rng, options)


def tool_noun(rng: np.random.Generator, category: str, many: bool = False) -> str:
    """Words for a category slot: a catalog category, a family, or UNLISTED (a tool the catalog lacks)."""
    vocab = vocabulary()
    if category == UNLISTED:
        return _choice(rng, PLURAL_UNLISTED) if many and rng.random() < 0.3 else _case(rng, _choice(rng, UNLISTED_TOOLS))
    if category in catalog.CATALOG:
        name = _choice(rng, _names_of(category))
    else:
        word = vocab.family_words[category]
        name = _choice(rng, (word, word, word, *FAMILY_INFORMAL.get(category, ())))
    name = _hyphen_variant(rng, _case(rng, name))
    if many and not name.lower().endswith("pliers"):
        name = plural(name)
    elif not many and name.lower() == "pliers" and rng.random() < 0.2:
        name = "pair of pliers"
    return name


def reference_words(rng: np.random.Generator, ref: ToolReference, many: bool = False, determiner: str | None = None) -> Tagged:
    """A reference in words, tagged: determiner, order/size/colour words before or after the noun, relation last."""
    noun = tool_noun(rng, ref.category, many) if ref.category else _choice(rng, ("one", "thing", "tool", "it"))
    noun_tagged = tag(noun, "TOOL" if ref.category else "O")
    pre: Tagged = []
    post: list[Tagged] = []
    if ref.order:
        label = f"ORDER_{ref.order}"
        r = rng.random()
        if r < 0.55:
            pre += tag(_choice(rng, ORDER_PRE[ref.order]), label)
        elif r < 0.8 or not ref.category:
            post.append(tag(_choice(rng, ORDER_POST[ref.order]), label))
        else:  # "the biggest of the wrenches": the whole phrase is the order's but the noun
            text = _choice(rng, ORDER_OF[ref.order])
            many = "{n}" in text
            before, after = text.split("{n}" if many else "{s}")
            attrs = tag(_size_word(rng, ref.size), f"SIZE_{ref.size}") if ref.size else []
            attrs += tag(_colour_word(rng, ref.colour), "COLOUR") if ref.colour else []
            body = tag(before, label) + attrs + tag(tool_noun(rng, ref.category, many), "TOOL") + tag(after, label)
            if ref.relation:
                body += tag(_choice(rng, RELATION_FORMS).replace("{t}", _choice(rng, TRAY_NAMES)), "REL_nearest_tray")
            return body
    if ref.size:
        label = f"SIZE_{ref.size}"
        if rng.random() < 0.85 or not ref.category:
            pre += tag(_size_word(rng, ref.size), label)
        else:
            post.append(tag(_choice(rng, ("that's {s}", "the {s} one", "which is {s}", "in the {s} size", "of the {s} size",
                                          ", the {s} one,", ", the {s} ones,", "- the {s} one"))
                            .format(s=_size_word(rng, ref.size)), label))
    if ref.colour:
        word = _colour_word(rng, ref.colour)
        if rng.random() < 0.8:
            pre += tag(_choice(rng, COLOUR_FORMS).format(c=word), "COLOUR")
        else:
            post.append(tag(_choice(rng, COLOUR_POST).format(c=word), "COLOUR"))
    if ref.relation:
        post.append(tag(_choice(rng, RELATION_FORMS).replace("{t}", _choice(rng, TRAY_NAMES)), "REL_nearest_tray"))
        if len(post) == 1 and ref.category and rng.random() < 0.15:  # "whichever pliers are closest to the tray"
            verb = "are" if noun.lower().endswith(("s", "pliers")) else "is"
            relation = tag(f"{verb} " + _choice(rng, RELATION_FORMS[:6]).replace("{t}", _choice(rng, TRAY_NAMES)), "REL_nearest_tray")
            return tag("whichever") + pre + noun_tagged + relation
    if rng.random() < 0.5:
        post.reverse()
    # Post-modifiers tag only their slot words; the glue ("that's", "with the") is "O".
    post_tagged: Tagged = []
    for chunk in post:
        post_tagged += [(w, t if _slot_word(w, t) else "O") for w, t in chunk]
    det = determiner if determiner is not None else ("" if many and rng.random() < 0.4 else _choice(rng, DETERMINERS))
    return tag(det) + pre + noun_tagged + post_tagged


_GLUE = {"that's", "that", "is", "which", "with", "the", "a", "in", "of", "one", "ones", "handle", "handles", "grip", "size",
         "side", "all", "way", "to", "at", "on", "end", "very", "extreme", "most", "your", "over", "far", ",", "-", "(", ")"}


def _slot_word(word: str, label: str) -> bool:
    """Whether a word of a post-modifier carries its slot (order and relation phrases are tagged whole)."""
    if label.startswith(("ORDER_", "REL_")):
        return True
    return word.lower() not in _GLUE


def container_words(rng: np.random.Generator, container: str, bare_side: bool = False) -> Tagged:
    """A canonical container in words, tagged CONT (its determiner "O")."""
    if container == PARTS_TRAY:
        name = _choice(rng, TRAY_NAMES)
    elif container == HANDOVER:
        name = _choice(rng, HANDOVER_NAMES)
    else:
        kind, noun = container.split()[0], _choice(rng, BIN_NOUNS)
        if kind in SIDE_WORDS:
            if bare_side and rng.random() < 0.6:
                return tag(_choice(rng, (kind, *SIDE_FORMS[kind][:2])), "CONT")
            if rng.random() < 0.65:
                name = f"{_choice(rng, SIDE_FORMS[kind])} {noun}"
            else:
                return tag(_choice(rng, ("the", "the", "that"))) + tag(f"{noun} {_choice(rng, SIDE_POST[kind])}", "CONT")
        else:
            colour = _colour_word(rng, kind)
            name = f"{colour} {noun}" if rng.random() < 0.8 else f"{noun} that's {colour}"
    return tag(_choice(rng, ("the", "the", "the", "that", ""))) + tag(name, "CONT")


# --- sentence frames per intent --------------------------------------------------------------------------------------

PICK = ("pick up {X}", "pick {X} up", "grab {X}", "lift {X}", "lift up {X}", "take hold of {X}", "get hold of {X}",
        "raise {X}", "hold up {X}", "pick out {X}", "grasp {X}", "take {X} in your gripper", "lift {X} off the bench",
        "pick {X} up off the bench", "get a grip on {X}", "grab hold of {X}", "hoist {X}", "pluck {X} off the bench",
        "grab {X} and hold it", "lift {X} and keep holding it", "raise {X} into the air", "pick up {X} and hold it up",
        "hold {X} up", "take {X}", "get {X} up off the table", "pick up {X} and keep it in your hand", "snatch up {X}",
        "collect {X} from the bench and hold it", "lift {X} up high", "pick {X}", "grab {X} off the bench", "hold {X}",
        "get {X} in your hand", "pick up {X} but don't move it anywhere", "clutch {X}", "take {X} off the bench")
PICK_GERUND = ("picking up {X}", "grabbing {X}", "lifting {X}", "taking hold of {X}", "picking {X} up", "holding up {X}",
               "raising {X}", "getting hold of {X}")
PICK_INDIRECT = ("I'd like {X} picked up", "{X} needs lifting", "can {X} be picked up?", "I want to see {X} in the air",
                 "your job is to lift {X}", "let's see you grab {X}", "I'd like to see you pick up {X}",
                 "{X} should be lifted off the bench", "the task is picking up {X}", "get {X} off the bench and hold it",
                 "show me {X} by picking it up", "I want {X} held up")
FETCH = ("bring me {X}", "bring {X} to me", "bring {X} over", "bring {X} over here", "hand me {X}", "hand {X} over",
         "pass me {X}", "pass {X} over", "pass {X} to me", "give me {X}", "fetch {X}", "fetch me {X}", "get me {X}",
         "grab me {X}", "toss me {X}", "send {X} my way", "hand over {X}", "deliver {X} to me", "bring {X} here",
         "put {X} in the {H}", "place {X} in the {H}", "move {X} to the {H}", "pop {X} over to me", "hand {X} to me",
         "give {X} to me", "get {X} over to me", "bring {X} my way", "fetch {X} for me", "slide {X} over to me",
         "get {X} for me", "pass {X} across", "pass over {X}")
FETCH_GERUND = ("passing me {X}", "handing me {X}", "bringing me {X}", "fetching {X}", "getting me {X}", "giving me {X}")
FETCH_INDIRECT = ("I need {X}", "I'll need {X}", "I could use {X}", "I could do with {X}", "can I have {X}",
                  "can I get {X}", "could I borrow {X}", "let me have {X}", "I'd like {X}", "{X}, please", "{X} please",
                  "{X} over here, please", "I want {X} in my hand", "I'm going to need {X}", "may I have {X}",
                  "could I get {X}", "can you get me {X}", "I'm after {X}", "I need {X} over here", "{X} to me, please",
                  "I'd like to have {X}", "what I need now is {X}", "could I have {X}", "I want {X}", "gimme {X}",
                  "any chance of {X}?", "I need you to bring me {X}", "I need {X} handed over")
PLACE = ("put {X} in {C}", "put {X} into {C}", "place {X} in {C}", "place {X} into {C}", "move {X} to {C}",
         "move {X} into {C}", "drop {X} in {C}", "drop {X} into {C}", "stick {X} in {C}", "pop {X} in {C}",
         "toss {X} into {C}", "stow {X} in {C}", "put away {X} in {C}", "put {X} away in {C}", "set {X} in {C}",
         "load {X} into {C}", "transfer {X} to {C}", "shift {X} over to {C}", "get {X} into {C}", "take {X} to {C}",
         "carry {X} over to {C}", "pick up {X} and put it in {C}", "grab {X} and drop it in {C}",
         "lift {X} and place it in {C}", "tidy {X} away into {C}", "put {X} inside {C}", "lay {X} in {C}",
         "chuck {X} in {C}", "file {X} away in {C}", "slot {X} into {C}", "move {X} over to {C}",
         "put {X} back in {C}", "return {X} to {C}", "drop {X} off in {C}", "store {X} in {C}")
PLACE_GERUND = ("putting {X} in {C}", "placing {X} into {C}", "moving {X} to {C}", "dropping {X} in {C}",
                "popping {X} into {C}", "stowing {X} in {C}")
PLACE_INDIRECT = ("{X} goes in {C}", "{X} belongs in {C}", "{X} should go in {C}", "I want {X} in {C}",
                  "I'd like {X} put in {C}", "{C} is where {X} goes", "could {X} go in {C}?", "{X} needs to go in {C}",
                  "{C} is the place for {X}", "into {C} with {X}", "{X} in {C}, please", "I'd like {X} in {C}",
                  "{X} has to go into {C}", "let's get {X} into {C}", "{X} should end up in {C}", "{X} -> {C}",
                  "{C}: {X}", "make sure {X} ends up in {C}", "{X} into {C}", "{X}, into {C}", "{X} in {C}",
                  "{X} over to {C}", "{X} goes into {C}, thanks", "in {C} with {X}")
COLLECT = ("put {X} in {C}", "put {X} into {C}", "collect {X} into {C}", "collect {X} and put them in {C}",
           "gather {X} into {C}", "gather up {X} and drop them in {C}", "round up {X} and put them in {C}",
           "get {X} into {C}", "tidy {X} away into {C}", "clear {X} off the bench into {C}", "sweep {X} into {C}",
           "pick up {X} and put them in {C}", "put away {X} in {C}", "move {X} into {C}", "drop {X} in {C}",
           "collect {X} in {C}", "scoop up {X} and drop them into {C}", "clean up {X} and put them in {C}",
           "pick {X} up and put them into {C}", "gather {X} up into {C}", "load {X} into {C}", "transfer {X} to {C}",
           "bring {X} together in {C}", "pop {X} into {C}", "stow {X} in {C}", "round {X} up into {C}",
           "tidy up {X} by putting all of them in {C}", "deal with {X}: all of them go in {C}",
           "clear up {X} by dropping them into {C}", "sort out {X} and pop the lot into {C}", "get {X}, every one of them, into {C}")
COLLECT_INDIRECT = ("{X} go in {C}", "{X} belong in {C}", "I want {X} in {C}", "{X} should all go in {C}",
                    "{C} is for {X}, put them there", "make sure {X} end up in {C}", "{X} need to go into {C}",
                    "can {X} go in {C}?", "I'd like {X} collected in {C}", "all {X} into {C}, please",
                    "{X} into {C}, please", "the job is to get {X} into {C}", "let's get {X} into {C}")
COLLECT_GERUND = ("collecting {X} into {C}", "gathering {X} into {C}", "putting {X} in {C}", "rounding up {X} into {C}")
QUANTIFIERS = ("all the", "all the", "all of the", "every single one of the", "the", "the", "any", "all", "the loose",
               "all the loose", "any loose", "each of the", "every one of the", "those", "the scattered", "all those")
COUNT = ("how many {X} are there", "how many {X} are on the bench", "how many {X} can you see", "how many {X} do you see",
         "how many {X} do we have", "how many {X} have we got", "count the {X}", "count up the {X}",
         "count how many {X} there are", "what's the number of {X}", "tell me how many {X} there are",
         "tell me the number of {X}", "give me a count of the {X}", "I need a count of the {X}", "number of {X} on the bench",
         "{X}: how many", "how many {X} are lying around", "do you know how many {X} there are", "how many {X} is that",
         "how many of the {X} are there", "any idea how many {X} we've got", "how many {X} are on the table",
         "how many {X} are there on the workbench", "what's the {x} count", "could you count the {X}",
         "how many {X} do you count", "I'd like to know how many {X} there are", "count all the {X}", "how many {X} in total",
         "how many {X} altogether", "tally up the {X}", "what number of {X} are there", "how many {X} you got there",
         "how many {X} can you find", "how many {X} are out", "quick count of the {X}", "how many {X}",
         "what's the tally of {X}", "how many {X} do I have", "can you tell me how many {X} there are", "{x} count",
         "how many {X} are knocking about", "how many {X} would you say there are", "let me know how many {X} you see",
         "roughly how many {X} are there", "have a look and count the {X}", "how many {X} have you got on the bench")
COLOUR_Q = ("what colour is {X}", "what color's {X}", "which colour is {X}", "what colour does {X} have",
            "tell me the colour of {X}", "what's the colour of {X}", "{X}, what colour is it", "do you know what colour {X} is",
            "can you tell me what colour {X} is", "which colour has {X} got", "what shade is {X}", "what colour's {X}",
            "what colour is {X} on the bench", "I'd like to know the colour of {X}", "which color is {X}",
            "what is the colour of {X}", "colour of {X}", "{X} is what colour", "tell me what colour {X} is",
            "describe the colour of {X}", "what colour would you say {X} is", "what's {X}'s colour",
            "what colour would {X} be", "can you see what colour {X} is", "I need to know the colour of {X}",
            "have a look at {X}: what colour is it", "what colour have they made {X}", "which colour did {X} come in")
EXISTS = ("is there {A} on the bench", "is there {A}", "are there any {X}", "are there any {X} on the bench", "do we have {A}",
          "do we have any {X}", "have we got {A}", "can you see {A}", "do you see {A} anywhere", "is there {A} anywhere",
          "any {X} on the bench", "is {A} lying around", "tell me if there's {A}", "check whether there's {A} on the bench",
          "I wonder if there's {A} here", "got {A} anywhere", "does the bench have {A} on it", "is there any {x}",
          "is there {A} somewhere on the bench", "can you spot {A}", "do you see any {X}", "have we got any {X}",
          "is there {A} on the workbench or not", "do we own {A}", "have you seen {A}", "any sign of {A}",
          "can you find {A} on the bench", "let me know if you see {A}", "is {A} on the bench", "are any {X} out",
          "is there any {x} lying about", "have you spotted {A}", "do I have {A} here", "would there be {A} on the bench",
          "is there {A} among the tools", "can you check if we've got {A}", "we don't have {A}, do we", "any {X} about")
SPATIAL_Q = ("is {X} left of {Y}", "is {X} to the left of {Y}", "is {X} on the right of {Y}", "is {X} to the right of {Y}",
             "does {X} lie left of {Y}", "is {X} further left than {Y}")
SORT_OPEN = ("sort the tools:", "organise the bench:", "organize the tools:", "tidy the bench:", "sort everything out:",
             "put things away:", "", "", "can you sort the tools:", "sort the bench,", "time to tidy up:",
             "let's get organised:", "tidy up please:", "sort them out:", "clean up the bench:", "bin the tools:",
             "sort the wrenches, screwdrivers and pliers:", "put the tools in the bins:", "organise everything:",
             "I'd like the bench sorted:", "could you sort things out:", "sort these:")
SORT_ITEM = ("{F} {S}", "{F} in {C}", "{F} go in {C}", "{F} into {C}", "{F} to {C}", "{C} for {F}", "{C} gets {F}",
             "{F} in {C}", "put {F} in {C}", "{F} belong in {C}", "{F} {S}", "{F} on {S}", "{S} for {F}", "{F} -> {C}",
             "{C}: {F}", "{F} should go in {C}", "{F} into {C}", "move {F} to {C}")
SORT_GOAL = ("group similar tools together", "sort the tools by type", "tidy up so like goes with like",
             "each kind of tool in its own bin", "put every type of tool in a bin of its own", "organise the tools by family",
             "separate the tools into the bins by kind", "clean up the bench, one kind of tool per bin",
             "put the {F1}, the {F2} and the {F3} each in their own bin", "sort the {F1}, {F2} and {F3} into separate bins",
             "I'd like the bench tidy, with each family of tools in its own bin", "make it so no bin has two kinds of tool",
             "declutter the bench: like with like", "organise things so the same tools are together", "bin the tools by type",
             "put the tools away sorted by kind", "keep the {F1}, {F2} and {F3} apart, each in a different bin",
             "sort the bench so each bin holds one sort of tool", "group the tools by what they are",
             "tidy the tools into the bins, one type per bin", "don't mix the tools up: one bin per kind",
             "sort out the tools so matching ones share a bin", "put all the tools of a kind together in a bin",
             "could you organise the bench by tool type", "give each kind of tool its own bin",
             "separate the {F1} from the {F2} and the {F3}", "sort the tools into groups", "group the tools, one bin each",
             "clear the bench by sorting the tools into bins by type", "make the bench tidy with the tools grouped",
             "arrange the tools so that similar ones go together", "get the bench organised by tool family",
             "put like tools with like", "sort these tools into their own bins", "separate everything into bins by kind")
UNCLEAR = ("", "?", "...", "um", "hmm", "uh", "hello", "hi there", "how are you", "what time is it", "thanks", "never mind",
           "good morning", "nice weather today", "I like turtles", "make me a sandwich", "open the window",
           "sing a song", "turn on the lights", "call my mom", "dance for me", "what's your name", "tell me a joke",
           "the", "and then", "uh the", "blah blah", "asdf", "qwerty uiop", "lorem ipsum dolor sit amet",
           "purple monkey dishwasher", "the of and to", "banana", "go", "yes", "no", "ok", "wait", "stop", "help",
           "is it raining", "where am I", "who made you", "play some music", "order a pizza", "what is two plus two",
           "do a backflip", "wash the dishes", "walk the dog", "switch off", "the the the", "zzzz", "xyz abc",
           "please", "can you", "I want", "do it", "thing stuff", "it", "hmm let me think", "never mind that",
           "shut the door", "book a flight", "water the plants", "how old are you")
REPLY = ("I mean {X}", "I meant {X}", "{X}", "it's {X}", "the one I want is {X}", "no, {X}", "sorry, {X}",
         "{X}, please", "that would be {X}", "I'm talking about {X}", "definitely {X}", "{X} I mean", "oh, {X}",
         "yes, {X}", "I want {X}", "it is {X}", "go for {X}")


REMARK_FRAMES = ("I've got a {a} {t} to {v}", "there's a {a} {t} {w}", "it's for a {a} {t}", "the {a} {t} needs {g}",
                 "we've got a {a} {t} to {v}", "I'm dealing with a {a} {t}", "that {a} {t} won't {v} itself",
                 "it's a {a} {t}, this one", "I have to {v} a {a} {t}", "there's a {a} {t} waiting", "my {a} {t} is playing up")
REMARK_THINGS = ("job", "bolt", "nut", "repair", "shelf", "crate", "problem", "pile of work", "leak", "door", "cabinet", "hinge",
                 "fence panel", "bike", "chair", "drawer", "frame", "pipe", "box", "task", "order", "gate", "table leg")
REMARK_VERBS = ("shift", "fix", "loosen", "tighten", "sort out", "deal with", "open", "finish", "undo", "put up")
REMARK_GERUNDS = ("fixing", "tightening", "a look", "sorting", "replacing", "some work")
REMARK_WHERE = ("in the garage", "out back", "upstairs", "on the other bench", "by the door", "in the van", "next door")


def _remark(rng: np.random.Generator) -> str:
    """A trailing remark that uses size, colour or place words about something else ("I've got a big job on")."""
    vocab = vocabulary()
    adjective = _choice(rng, (*SIZE_WORDS["small"], *SIZE_WORDS["large"], *catalog.COLOURS, "old", "rusty", "new", "stubborn",
                              "tricky", "wobbly", "left", "right", "biggest", *ORDER_PRE["largest"][:3]))
    if vocab.colours.get(adjective) == "wood":
        adjective = "wooden"
    return _choice(rng, REMARK_FRAMES).format(a=adjective, t=_choice(rng, REMARK_THINGS), v=_choice(rng, REMARK_VERBS),
                                             g=_choice(rng, REMARK_GERUNDS), w=_choice(rng, REMARK_WHERE))


def _garble(rng: np.random.Generator) -> str:
    """A garbled line: letters, or real words in no order."""
    if rng.random() < 0.5:
        return " ".join("".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(2, 9)))) for _ in range(int(rng.integers(1, 6))))
    pool = ("the", "of", "to", "and", "is", "blue", "running", "table", "quickly", "sky", "under", "potato", "seven",
            "window", "happy", "over", "because", "cloud", "why", "train", "music", "not", "very", "soft", "cheese")
    return " ".join(_choice(rng, pool) for _ in range(int(rng.integers(2, 8))))


def _typo(rng: np.random.Generator, word: str) -> str:
    """One slip of the keyboard: a swapped, missing, doubled or wrong letter."""
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.55:
        return word[:i] + word[i + 1:]
    if kind < 0.75:
        return word[:i] + word[i] + word[i:]
    return word[:i] + _choice(rng, list("aeiourstnl")) + word[i + 1:]


# --- sampling meanings ----------------------------------------------------------------------------------------------

INTENT_WEIGHTS = {"pick": 0.13, "fetch": 0.13, "place": 0.16, "sort": 0.11, "collect": 0.09, "count": 0.09,
                  "colour_question": 0.07, "existence_question": 0.07, "spatial_question": 0.02, "unclear": 0.06, "reply": 0.07}


def _category(rng: np.random.Generator, unlisted: float = 0.1, none: float = 0.03) -> str:
    vocab = vocabulary()
    r = rng.random()
    if r < none:
        return ""
    if r < none + unlisted:
        return UNLISTED
    multi = [f for f, m in vocab.families.items() if len(m) > 1]
    if rng.random() < 0.3 and multi:
        return _choice(rng, multi)
    return _choice(rng, list(catalog.TOOLS))


def _reference(rng: np.random.Generator, category: str | None = None) -> ToolReference:
    category = _category(rng) if category is None else category
    colours = catalog.TOOLS[category].colours if category in catalog.TOOLS else tuple(catalog.COLOURS)
    colour = _choice(rng, colours) if rng.random() < 0.4 else ""
    r = rng.random()
    order = relation = size = ""
    if r < 0.3:
        order = _choice(rng, ("largest", "smallest", "leftmost", "rightmost"))
    elif r < 0.38:
        relation = "nearest_tray"
    if rng.random() < (0.12 if order or relation else 0.3):
        size = _choice(rng, ("small", "medium", "large"))
    if category == UNLISTED and rng.random() < 0.7:
        colour = size = order = relation = ""
    if not category and not (colour or size or order):
        colour = _choice(rng, colours)  # "the red one"
    return ToolReference(category, colour, size, order, relation)


def _container(rng: np.random.Generator, parts: bool = False) -> str:
    r = rng.random()
    if parts or r < 0.3:
        return PARTS_TRAY
    if r < 0.75:
        return f"{_choice(rng, ('left', 'middle', 'right'))} bin"
    return f"{_choice(rng, catalog.CONTAINERS['bin'].colours)} bin"


# --- sentences -------------------------------------------------------------------------------------------------------

def _wrap(rng: np.random.Generator, body: Tagged, frame_kind: str, family: str) -> tuple[Tagged, str]:
    """Politeness, fillers, suffixes and trailing remarks around a command body; returns the words and family."""
    out = list(body)
    if frame_kind == "plain":
        r = rng.random()
        if r < 0.3:
            out = tag(_choice(rng, POLITE)) + out
            family = "polite"
        elif r < 0.5:
            out = tag(_choice(rng, INDIRECT)) + out
            family = "indirect"
    if rng.random() < 0.25:
        out = tag(_choice(rng, FILLERS)) + out
        family = "filler" if family == "plain" else family
    r = rng.random()
    if r < 0.25:
        out = out + tag(",") * (rng.random() < 0.5) + tag(_choice(rng, SUFFIXES))
    elif r < 0.4:
        remark = _remark(rng) if rng.random() < 0.4 else _choice(rng, TRAILING)
        out = out + tag(_choice(rng, (",", ";", ".", " -", ", since", ", because", "as"))) + tag(remark)
        family = "trailing"
    elif r < 0.45:
        out = out + tag(_choice(rng, WHERE_REMARKS))
    if rng.random() < 0.05:
        out = out + tag(". " + _choice(rng, THANKS))
    if rng.random() < 0.4:
        out = out + tag(_choice(rng, (".", "!", ".", "?" if frame_kind != "plain" else ".")))
    return out, family


def _command(rng: np.random.Generator, frames, gerunds, indirect, **slots: Tagged) -> tuple[Tagged, str, str]:
    """A command body from one of three frame sets; returns (words, frame kind, family)."""
    r = rng.random()
    if r < 0.6:
        return fill(_choice(rng, frames), **slots), "plain", "plain"
    if r < 0.75:
        return tag(_choice(rng, GERUND_POLITE)) + fill(_choice(rng, gerunds), **slots) + tag("?") * (rng.random() < 0.7), "gerund", "polite"
    return fill(_choice(rng, indirect), **slots), "indirect", "indirect"


def _reordered(rng: np.random.Generator, x: Tagged, verb: str, rest: Tagged | None = None) -> Tagged:
    """The object first: "the red hammer - pick it up", "see the largest wrench? bring it to me"."""
    frame = _choice(rng, ("{X} - {V} {P}{R}", "{X}: {V} {P}{R}", "see {X}? {V} {P}{R}", "there's {X} on the bench; {V} {P}{R}",
                          "{X}, could you {V} {P}{R}", "you know {X}? {V} {P}{R}", "{X} - can you {V} {P}{R}?",
                          "that {Xn}, {V} {P}{R}", "{X}... {V} {P}{R}, please", "{X}, {V} {P}{R}", "{X}? {V} {P}{R}"))
    noun_only = [(w, t) for w, t in x if not (t == "O" and w.lower() in ("the", "that", "this", "your"))]
    pliers = any(w.lower().startswith("plier") for w, t in x if t == "TOOL")  # a pair of pliers is "them"
    pronoun = "them" if rng.random() < (0.7 if pliers else 0.1) else "it"
    return fill(frame, X=x, Xn=noun_only, V=tag(verb), P=tag(pronoun), R=rest or [])


def sample_example(rng: np.random.Generator) -> Example:
    """One random example: a meaning drawn by INTENT_WEIGHTS, put into words."""
    intent = rng.choice(list(INTENT_WEIGHTS), p=np.array(list(INTENT_WEIGHTS.values())) / sum(INTENT_WEIGHTS.values()))
    if intent == "unclear":
        text = _choice(rng, UNCLEAR) if rng.random() < 0.6 else _garble(rng)
        words = tag(text)
        return _finish(rng, words, StructuredTask("unclear", missing=("category",)), "unclear", typos=False)
    if intent == "reply":
        ref = _reference(rng)
        if rng.random() < 0.4:  # "the small one": attributes without a noun
            ref = ToolReference("", ref.colour, ref.size, ref.order or ("" if ref.colour or ref.size else "largest"), ref.relation)
        return _finish(rng, fill(_choice(rng, REPLY), X=reference_words(rng, ref)), None, "reply")
    if intent in ("pick", "fetch"):
        ref = _reference(rng)
        x = reference_words(rng, ref)
        if rng.random() < 0.12:
            verb = _choice(rng, ("pick up", "grab", "lift") if intent == "pick" else ("bring me", "hand me", "pass me", "give me"))
            words, family = _wrap(rng, _reordered(rng, x, verb.split()[0] if verb == "pick up" else verb, tag(" up") if verb == "pick up" else None), "reordered", "reordered")
        else:
            sets = (PICK, PICK_GERUND, PICK_INDIRECT) if intent == "pick" else (FETCH, FETCH_GERUND, FETCH_INDIRECT)
            body, kind, family = _command(rng, *sets, X=x, H=tag(_choice(rng, HANDOVER_NAMES)))
            words, family = _wrap(rng, body, kind, family)
        return _finish(rng, words, StructuredTask(intent, ref, missing=missing_slots(intent, ref, "")), family)
    if intent == "place":
        ref = _reference(rng)
        container = _container(rng) if rng.random() > 0.04 else ""
        if container and rng.random() < 0.1:  # "the blue spanner - put it in the right bin"
            verb = _choice(rng, ("put", "place", "drop", "pop", "stick", "move"))
            words, family = _wrap(rng, _reordered(rng, reference_words(rng, ref), verb, tag(_choice(rng, (" in", " into"))) + container_words(rng, container)),
                                  "reordered", "reordered")
            return _finish(rng, words, StructuredTask("place", ref, container, missing=missing_slots("place", ref, container)), family)
        if container == "":  # "put the hammer away": where is not said
            body = fill(_choice(rng, ("put {X} away", "put {X} somewhere", "stow {X}", "tidy {X} away", "put {X} in a bin",
                                      "put {X} in the bin", "move {X} into a container")), X=reference_words(rng, ref))
            words, family = _wrap(rng, body, "plain", "plain")
        else:
            body, kind, family = _command(rng, PLACE, PLACE_GERUND, PLACE_INDIRECT, X=reference_words(rng, ref), C=container_words(rng, container))
            words, family = _wrap(rng, body, kind, family)
        return _finish(rng, words, StructuredTask("place", ref, container, missing=missing_slots("place", ref, container)), family)
    if intent == "collect":
        category = "screw" if rng.random() < 0.45 else _category(rng, unlisted=0.05, none=0.0)
        colours = catalog.TOOLS[category].colours if category in catalog.TOOLS else tuple(catalog.COLOURS)
        ref = ToolReference(category, _choice(rng, colours) if rng.random() < 0.1 else "", every=True)
        container = _container(rng, parts=category in ("screw", "nut") and rng.random() < 0.85)
        noun = tool_noun(rng, category, True)
        # "the pliers" is one pair as often as many: a collect of pliers says "all" or "every"
        quantifiers = [q for q in QUANTIFIERS if q.split()[0] in ("all", "every", "each", "any")] if noun.lower().endswith("pliers") else QUANTIFIERS
        x = tag(_choice(rng, quantifiers)) + (tag(_colour_word(rng, ref.colour), "COLOUR") if ref.colour else []) + tag(noun, "TOOL")
        if rng.random() < 0.1:
            x = tag("every") + (tag(_colour_word(rng, ref.colour), "COLOUR") if ref.colour else []) + tag(tool_noun(rng, category), "TOOL")
        body, kind, family = _command(rng, COLLECT, COLLECT_GERUND, COLLECT_INDIRECT, X=x, C=container_words(rng, container))
        words, family = _wrap(rng, body, kind, family)
        return _finish(rng, words, StructuredTask("collect", ref, container), family)
    if intent == "sort":
        return _sort_example(rng)
    if intent == "spatial_question":
        a, b = _reference(rng, _category(rng, 0.0, 0.0)), _reference(rng, _category(rng, 0.0, 0.0))
        a, b = ToolReference(a.category), ToolReference(b.category)
        body = fill(_choice(rng, SPATIAL_Q), X=reference_words(rng, a, determiner="the"), Y=tag("the") + [(w, "O") for w, _ in tag(tool_noun(rng, b.category))])
        words, family = _wrap(rng, body + tag("?"), "question", "question")
        return _finish(rng, words, StructuredTask("spatial_question", a), family)
    return _question_example(rng, intent)


def _question_example(rng: np.random.Generator, intent: str) -> Example:
    vocab = vocabulary()
    families = list(vocab.families)
    r = rng.random()
    if r < 0.75:  # the envs ask about families
        category = family_category(_choice(rng, families))
    elif r < 0.95:
        category = _choice(rng, list(catalog.TOOLS))
    else:
        category = UNLISTED
    colours = catalog.TOOLS[category].colours if category in catalog.TOOLS else tuple(catalog.COLOURS)
    colour = _choice(rng, colours) if intent != "colour_question" and rng.random() < 0.12 else ""
    size = _choice(rng, ("small", "medium", "large")) if intent != "colour_question" and rng.random() < 0.06 else ""
    every = intent == "count"
    ref = ToolReference(category, colour, size, every=every)
    attrs = (tag(_size_word(rng, size), f"SIZE_{size}") if size else []) + (tag(_colour_word(rng, colour), "COLOUR") if colour else [])
    many = tag(tool_noun(rng, category, True), "TOOL")
    one = tag(tool_noun(rng, category), "TOOL")
    article = "an" if one[0][0][0].lower() in "aeiou" else "a"
    if intent == "count":
        frame = _choice(rng, COUNT)
        body = fill(frame, X=attrs + many, x=attrs + one)
    elif intent == "colour_question":
        body = fill(_choice(rng, COLOUR_Q), X=tag(_choice(rng, ("the", "the", "that", "your", ""))) + attrs + one)
    else:
        body = fill(_choice(rng, EXISTS), A=tag(_choice(rng, (article, article, "any", "one"))) + attrs + one, X=attrs + many, x=attrs + one)
    if rng.random() < 0.15:
        body = tag(_choice(rng, ("quick question:", "hey,", "so,", "robot,", "tell me,", "I wonder,", "ok,", "um,",
                                 "question for you:", "just curious,", "out of interest,", "before we start,"))) + body
    if rng.random() < 0.75:
        body = body + tag("?")
    words, family = _wrap(rng, body, "question", "question")
    ref_task = StructuredTask(intent, ref, missing=missing_slots(intent, ref, ""))
    return _finish(rng, words, ref_task, family)


def _sort_example(rng: np.random.Generator) -> Example:
    vocab = vocabulary()
    multi = [f for f, m in vocab.families.items() if len(m) > 1] or list(vocab.families)
    fams = [str(f) for f in rng.permutation(multi)[:3]]

    def fam_words(family: str) -> Tagged:
        name = tool_noun(rng, family, True) if rng.random() < 0.8 else tool_noun(rng, _choice(rng, vocab.families[family]), True)
        return tag(_choice(rng, ("the", "", "", "all the", "any"))) + tag(name, "TOOL")

    def listed(family: str) -> Tagged:  # a family named without a bin: not a group, so "O"
        return [(w, "O") for w, _ in fam_words(family)]

    if rng.random() < 0.35:  # goal-level: each family its own bin, no bin named
        frame = _choice(rng, SORT_GOAL)
        body = fill(frame, F1=listed(fams[0]), F2=listed(fams[1]), F3=listed(fams[2]))
        words, family = _wrap(rng, body, "plain", "goal")
        return _finish(rng, words, StructuredTask("sort"), "goal" if family in ("plain", "filler") else family)
    sides = ["left", "middle", "right"]
    if rng.random() < 0.6:
        bins = {f: f"{s} bin" for f, s in zip(["wrench", "screwdriver", "pliers"], sides)}
        assignment = [(f, bins.get(f, f"{_choice(rng, sides)} bin")) for f in fams]
    else:
        colours = list(catalog.CONTAINERS["bin"].colours)
        use_colour = rng.random() < 0.25
        chosen = [str(c) for c in rng.permutation(colours)[:3]] if use_colour else [str(s) for s in rng.permutation(sides)]
        assignment = [(f, f"{c} bin") for f, c in zip(fams, chosen)]
    if rng.random() < 0.15:
        assignment = assignment[: int(rng.integers(1, 3))]
    order = list(rng.permutation(len(assignment)))
    opening = tag(_choice(rng, SORT_OPEN))
    if len(assignment) == 3 and rng.random() < 0.25:  # "the wrenches, screwdrivers and pliers go in the left, middle and right bins"
        fs = [fam_words(assignment[i][0]) for i in order]
        bare = all(assignment[i][1].split()[0] in SIDE_WORDS for i in order) and rng.random() < 0.6
        if bare:  # "into the left, middle and right bins"
            cs = [tag(_choice(rng, SIDE_FORMS[assignment[i][1].split()[0]][:2]), "CONT") for i in order]
            cs[2] = cs[2] + tag(_choice(rng, ("bins", "boxes", "tubs", "ones", "bins")), "CONT")
            frame = _choice(rng, ("{A}, {B} and {C} into the {D}, {E} and {F} respectively", "sort {A}, {B} and {C} into the {D}, {E} and {F}",
                                  "put {A}, {B} and {C} in the {D}, {E} and {F}, in that order",
                                  "{A}, {B} and {C} go in the {D}, {E} and {F} respectively", "organise {A}, {B} and {C} into the {D}, {E} and {F}"))
        else:
            cs = [container_words(rng, assignment[i][1], bare_side=True) for i in order]
            frame = _choice(rng, ("{A}, {B} and {C} go in {D}, {E} and {F} respectively", "put {A}, {B} and {C} in {D}, {E} and {F}",
                                  "{A}, {B} and {C} into {D}, {E} and {F} respectively", "sort {A}, {B} and {C} into {D}, {E} and {F}",
                                  "{A}, {B} and {C}: {D}, {E} and {F}, in that order"))
        body = fill(frame, A=fs[0], B=fs[1], C=fs[2], D=cs[0], E=cs[1], F=cs[2])
        words, family = _wrap(rng, body, "plain", "plain")
        return _finish(rng, words, StructuredTask("sort", groups=tuple(sorted(assignment))), family)
    items = []
    for i in order:
        family, container = assignment[i]
        bare = container.split()[0] in SIDE_WORDS
        item = _choice(rng, SORT_ITEM if bare else [s for s in SORT_ITEM if "{S}" not in s])
        side = container_words(rng, container, bare_side=True) if bare else []
        items.append(fill(item, F=fam_words(family), C=container_words(rng, container), S=side))
    seps = (", ", "; ", ", and ", " and ", ", then ", ". ", ", ")
    body: Tagged = []
    for k, item in enumerate(items):
        if k:
            body += tag(_choice(rng, seps) if k < len(items) - 1 else _choice(rng, (", and ", " and ", ", ", "; ", " and finally ")))
        body += item
    body = opening + body
    words, family = _wrap(rng, body, "plain", "plain")
    groups = tuple(sorted(assignment))
    return _finish(rng, words, StructuredTask("sort", groups=groups), family)


def _finish(rng: np.random.Generator, words: Tagged, task: StructuredTask | None, family: str, typos: bool = True) -> Example:
    """Typos and dropped words now and then, then the example."""
    words = [(w, t) for w, t in words if w]
    if typos and rng.random() < 0.04:  # "teh", "hte": the slip on the commonest word
        the = [i for i, (w, t) in enumerate(words) if w.lower() == "the"]
        if the:
            i = _choice(rng, the)
            words[i] = (_choice(rng, ("teh", "hte", "th", "tthe", "thw")), "O")
            family = "typo"
    if typos and rng.random() < 0.12:
        candidates = [i for i, (w, t) in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if candidates:
            i = _choice(rng, candidates)
            words[i] = (_typo(rng, words[i][0]), words[i][1])
            family = "typo"
    if typos and rng.random() < 0.05:
        drop = [i for i, (w, t) in enumerate(words) if t == "O" and w.lower() in ("the", "a", "in", "to", "into", "up", "me")]
        if drop:
            del words[_choice(rng, drop)]
    return Example(tuple(w for w, _ in words), tuple(t for _, t in words), task, family)


def generate_corpus(n: int, seed: int = 0) -> list[Example]:
    """`n` examples, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [sample_example(rng) for _ in range(n)]
