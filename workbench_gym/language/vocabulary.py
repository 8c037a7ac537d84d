"""The workbench's words, read from the catalog, and tolerant matching of what people type to them.

Category names, family words and their plurals, the trade's other words (the catalog's aliases) and colours all come
from `scenes.catalog`, so a new category brings its words with it: nothing here names a tool. The few tables below are
plain English no catalog holds: spelling variants, informal size words, the words for sides and containers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from workbench_gym.language.task import HANDOVER, PARTS_TRAY, UNLISTED, StructuredTask
from workbench_gym.scenes import catalog

#: Spelling variants and near-synonyms mapped before anything is read ("gray" -> "grey").
SPELLINGS = {"gray": "grey", "color": "colour", "colors": "colours", "center": "centre", "colored": "coloured"}
#: Colour words people use for the catalog's colours; the catalog's own names map to themselves.
COLOUR_SYNONYMS = {"golden": "brass", "gold": "brass", "wooden": "wood", "timber": "wood", "silvery": "silver",
                   "chrome": "silver", "crimson": "red", "scarlet": "red", "navy": "blue"}
#: Absolute size words, informal ones included ("the little screwdriver").
SIZE_WORDS = {
    "small": ("small", "little", "tiny", "short", "mini", "wee", "stubby", "smallish", "teeny"),
    "medium": ("medium", "medium-sized", "mid-sized", "mid-size", "middle-sized", "midsize", "average-sized", "regular-sized"),
    "large": ("large", "big", "long", "huge", "giant", "biggish", "hefty", "chunky", "full-size", "full-sized", "jumbo"),
}
#: Comparison words: the one most so among those of its kind.
ORDER_WORDS = {
    "largest": ("largest", "biggest", "longest", "heftiest", "chunkiest"),
    "smallest": ("smallest", "shortest", "tiniest", "littlest", "stubbiest"),
    "leftmost": ("leftmost", "left-most", "left-hand-most"),
    "rightmost": ("rightmost", "right-most", "right-hand-most"),
}
#: Side words of the three bins (the robot's left and right).
SIDE_WORDS = {"left": ("left", "left-hand", "lefthand"), "middle": ("middle", "centre", "center", "central", "mid", "centre-most", "between"),
              "right": ("right", "right-hand", "righthand")}
#: Short words people use for a catalog name ("the driver"); each maps to a name the catalog holds.
SHORT_NAMES = {"driver": "screwdriver", "tape": "tape measure"}
#: Words inside a tool phrase that name no tool ("a pair of pliers", "the Phillips head screwdriver").
NOUN_FILLERS = frozenset({"a", "an", "the", "pair", "pairs", "of", "set", "one", "ones", "loose", "tool", "tools", "thing",
                          "things", "that", "this", "those", "these", "some", "any", "all", "my", "your", "our", "type",
                          "kind", "head", "headed", "tip", "tipped", "style", "anywhere", "somewhere", "here", "there",
                          "around", "about", "please", "lying"})
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, hyphenated words split ("Needle-nose pliers" -> needle, nose, pliers), spellings mapped."""
    return [SPELLINGS.get(w, w) for w in _WORD.findall(text.lower())]


def plural(word: str) -> str:
    """English plural of a tool word: "wrench" -> "wrenches", "Allen key" -> "Allen keys", "pliers" stays."""
    if word.endswith("s"):
        return word  # pliers, snips: the word is plural already
    if word.endswith(("ch", "sh", "x", "z")):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def singular(token: str, known: frozenset[str] | set[str]) -> str:
    """The known singular of a plural token ("wrenches" -> "wrench"), else the token."""
    if token in known:
        return token
    for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
        if token.endswith(cut) and token[: -len(cut)] + add in known:
            return token[: -len(cut)] + add
    return token


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (a transposition is one edit), capped at `limit`.

    Hand-written because difflib's ratio scores a swapped pair of letters as two changes, and typos are mostly that.
    """
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return min(prev[-1], limit)


@dataclass(frozen=True)
class Vocabulary:
    """Every word of the catalog, built by `vocabulary()`.

    `names` maps a tool or container name as a token tuple ("needle", "nose", "pliers") to the categories it names:
    display names, aliases, family words and their plurals, and a display name's distinguishing part ("needle-nose").
    """

    families: dict[str, tuple[str, ...]]  # tool family -> its categories, catalog order
    family_words: dict[str, str]  # tool family -> the word for it ("Allen key")
    names: dict[tuple[str, ...], frozenset[str]]
    words: frozenset[str]  # every token of every name, colour and size word: what typos are corrected to
    colours: dict[str, str]  # colour word -> catalog colour
    sizes: dict[str, str]  # size word -> size label
    orders: dict[str, str]  # comparison word -> ORDERS entry
    sides: dict[str, str]  # side word -> left / middle / right
    bin_words: frozenset[str]  # words for a bin ("bin", "box", "tub")
    tray_words: frozenset[str]  # words only the parts tray's names hold ("tray", "parts")
    tool_words: frozenset[str]  # every token of a tool's name
    spellings: dict[str, str]  # every word and its plural -> the word: what a typo is measured against

    def family_plural(self, family: str) -> str:
        return plural(self.family_words[family])

    def correct(self, token: str) -> str:
        """The vocabulary word a token was meant as: itself when known, a plural's singular, a close typo's word."""
        return _correct_cached(catalog_key(), token)

    def split(self, token: str) -> list[str]:
        """A token that is two words run together ("slipjoint", "phillipshead") as those words, else [token]."""
        if singular(token, self.words) in self.words or len(token) < 6:
            return [token]
        for i in range(3, len(token) - 2):
            head, tail = token[:i], singular(token[i:], self.words)
            if head in self.words and (tail in self.words or tail in NOUN_FILLERS or singular(tail, NOUN_FILLERS) in NOUN_FILLERS):
                return [head, tail]
        return [token]


@lru_cache(maxsize=4096)
def _correct_cached(key: tuple, token: str) -> str:
    vocab = _build(key)
    word = singular(token, vocab.words)
    if word in vocab.words or word in NOUN_FILLERS or len(token) < 4 or token.isdigit():
        return word
    limit = 1 if len(token) < 8 else 2
    # A typo keeps the first letter (people see it): "staples" is no slip for "tapes".
    near = [w for w in vocab.spellings if abs(len(w) - len(token)) <= limit and w[0] == token[0]]
    best = min(near, key=lambda w: (edit_distance(token, w, limit + 1), -len(w), w), default="")
    return vocab.spellings[best] if best and edit_distance(token, best, limit + 1) <= limit else token



def _family_word(family: str) -> str:
    """The word for a family: a member's display name when it is the family's own name ("Allen key"), else the key's."""
    spoken = family.replace("_", " ")
    return next((c.display for c in catalog.TOOLS.values() if c.family == family and c.display.lower() == spoken), spoken)


def catalog_key() -> tuple:
    """What the vocabulary's caches are keyed by: the catalog's names, its category objects and its colours."""
    return tuple(catalog.CATALOG), tuple(map(id, catalog.CATALOG.values())), tuple(catalog.COLOURS)


def vocabulary() -> Vocabulary:
    """The vocabulary of the catalog as it is now (rebuilt when a category is added or changed)."""
    return _build(catalog_key())


@lru_cache(maxsize=4)
def _build(key: tuple) -> Vocabulary:
    families: dict[str, list[str]] = {}
    for name, cat in catalog.TOOLS.items():
        families.setdefault(cat.family, []).append(name)
    family_words = {f: _family_word(f) for f in families}
    names: dict[tuple[str, ...], set[str]] = {}

    def add(text: str, categories) -> None:
        key_ = tuple(tokens(text))
        if key_:
            names.setdefault(key_, set()).update(categories)

    for name, cat in catalog.CATALOG.items():
        for text in (cat.display, *cat.aliases):
            add(text, {name})
    for name, cat in catalog.TOOLS.items():
        # A name's distinguishing part names it alone: the display name's ("the needle-nose", "the adjustable"), and
        # an alias's when it is a hyphenated compound ("the cross-head"); "nail" of "nail hammer" names no hammer.
        head = tokens(family_words[cat.family])
        for text in (cat.display, *cat.aliases):
            shown = tokens(text)
            part = text.split()[: -len(head)] if len(text.split()) > len(head) else []
            if shown[-len(head):] == head and part and (text == cat.display or "-" in " ".join(part)):
                prefix = tuple(tokens(" ".join(part)))
                if text == cat.display or prefix not in names:
                    add(" ".join(part), {name})
    for family, members in families.items():
        add(family_words[family], members)
    for short, name in SHORT_NAMES.items():
        if tuple(tokens(name)) in names:
            add(short, names[tuple(tokens(name))])
    bin_words = {w for c in catalog.CONTAINERS.values() if c.name == "bin" for t in (c.display, *c.aliases) for w in tokens(t)}
    # The tray's own words: those in more than one of its names ("tray", "parts"), no size word.
    tray = catalog.CONTAINERS.get("parts_tray")
    counts = Counter(w for t in ((tray.display, *tray.aliases) if tray else ()) for w in set(tokens(t)))
    colours = {c: c for c in catalog.COLOURS} | {w: c for w, c in COLOUR_SYNONYMS.items() if c in catalog.COLOURS}
    sizes = {w: label for label, ws in SIZE_WORDS.items() for w in ws}
    orders = {w: label for label, ws in ORDER_WORDS.items() for w in ws}
    sides = {w: label for label, ws in SIDE_WORDS.items() for w in ws}
    words = {w for key_ in names for w in key_} | {w for t in (*colours, *sizes, *orders, *sides) for w in tokens(t)}
    tray_words = {w for w, n in counts.items() if n > 1 and w not in sizes and w not in bin_words}
    return Vocabulary({f: tuple(m) for f, m in families.items()}, family_words, {k: frozenset(v) for k, v in names.items()},
                      frozenset(words), colours, sizes, orders, sides, frozenset(bin_words), frozenset(tray_words),
                      frozenset(w for key_, cats in names.items() if cats & set(catalog.TOOLS) for w in key_),
                      {**{plural(w): w for w in words}, **{w: w for w in (*words, *NOUN_FILLERS)}})


def category_texts(category: str) -> tuple[str, ...]:
    """Names of one category in lower case, most specific first: display name, catalog name, aliases, then the
    family's word and plural (tools) or "container"."""
    cat = catalog.CATALOG[category]
    texts = [cat.display.lower(), cat.name.replace("_", " "), *(a.lower() for a in cat.aliases)]
    if cat.is_container:
        texts.append("container")
    else:
        word = vocabulary().family_words[cat.family].lower()
        texts += [word, plural(word)]
    return tuple(dict.fromkeys(texts))


# --- words -> slots -----------------------------------------------------------------------------------------------


def family_category(family: str) -> str:
    """The category slot of a whole family: its one category when it has one ("hammer" -> claw_hammer), else the family."""
    members = vocabulary().families.get(family, ())
    return members[0] if len(members) == 1 else family


def categories_of(category: str) -> tuple[str, ...]:
    """Catalog categories a category slot stands for: itself, a family's members, or () for UNLISTED and ""."""
    if category in catalog.CATALOG:
        return (category,)
    return vocabulary().families.get(category, ())


def category_noun(category: str) -> str:
    """The words for a category slot: display name of a category, the family's word, or "" (UNLISTED and "")."""
    if category in catalog.CATALOG:
        return catalog.CATALOG[category].display
    return vocabulary().family_words.get(category, "")


def slot_of(categories: set[str] | frozenset[str]) -> str:
    """The category slot for a set of categories the words fit: the one, their family, or UNLISTED when none or mixed."""
    if len(categories) == 1:
        return next(iter(categories))
    families = {catalog.CATALOG[c].family for c in categories}
    return family_category(families.pop()) if len(families) == 1 else UNLISTED


def match_names(words: list[str]) -> tuple[list[tuple[tuple[str, ...], frozenset[str]]], list[str]]:
    """Greedy longest match of catalog names in a token list: [(name, categories)], and the tokens left over.

    Tokens are corrected first (plurals, typos), and two tokens that make one name when joined ("screw driver",
    "flat head") are read as that name.
    """
    vocab = vocabulary()
    words = [part for w in words for part in vocab.split(w)]
    fixed = [w if w in NOUN_FILLERS else vocab.correct(w) for w in words]
    longest = max(map(len, vocab.names))
    found, left, i = [], [], 0
    while i < len(fixed):
        joined = ""
        if i + 1 < len(words):  # two words of one name: "screw driver" (typos corrected word by word, not joined)
            joined = next((j for j in (singular(words[i] + words[i + 1], vocab.words), fixed[i] + fixed[i + 1]) if (j,) in vocab.names), "")
        if joined:
            found.append(((joined,), vocab.names[(joined,)]))
            i += 2
            continue
        for n in range(min(longest, len(fixed) - i), 0, -1):
            key = tuple(fixed[i: i + n])
            if key in vocab.names:
                found.append((key, vocab.names[key]))
                i += n
                break
        else:
            left.append(fixed[i])
            i += 1
    return found, left


def read_category(text: str | list[str]) -> str:
    """The category slot of a tool phrase ("crosshead screwdrivers" -> phillips_screwdriver, "spanner" ->
    combination_wrench, "wrench" -> wrench, "torque wrench" -> UNLISTED, "" when it names nothing)."""
    words = tokens(text) if isinstance(text, str) else [t for w in text for t in tokens(w)]
    if not [w for w in words if w not in NOUN_FILLERS]:
        return ""
    found, left = match_names(words)
    tools = [(k, cats & set(catalog.TOOLS)) for k, cats in found]
    tools = [(k, cats) for k, cats in tools if cats]
    if not tools or [w for w in left if w not in NOUN_FILLERS]:
        return UNLISTED  # a word the catalog does not know names the tool: "rubber mallet", "torque wrench"
    common = frozenset(catalog.TOOLS)
    for _, cats in tools:
        common &= cats
    return slot_of(common)


def read_colour(text: str | list[str]) -> str:
    """The catalog colour a phrase names ("gray", "wooden-handled" -> wood), or ""."""
    vocab = vocabulary()
    words = tokens(text) if isinstance(text, str) else [t for w in text for t in tokens(w)]
    for w in words:
        w = w if w in vocab.colours else vocab.correct(w)
        if w in vocab.colours:
            return vocab.colours[w]
    return ""


def read_container(text: str | list[str]) -> str:
    """The canonical container a phrase names: "left bin", "<colour> bin", PARTS_TRAY, HANDOVER, or "" when unsure."""
    vocab = vocabulary()
    words = tokens(text) if isinstance(text, str) else [t for w in text for t in tokens(w)]
    fixed = [w if w in vocab.words else vocab.correct(w) for w in words]
    joined = f" {' '.join(words)} "
    if any(w in vocab.tray_words for w in fixed):
        return PARTS_TRAY
    if " handover " in joined or " hand over " in joined:
        return HANDOVER
    side = next((vocab.sides[w] for w in fixed if w in vocab.sides), "")
    if not side:
        side = next((vocab.sides[o.removesuffix("most")] for o in fixed if o.removesuffix("most") in vocab.sides and o.endswith("most")), "")
    if side:
        return f"{side} bin"
    bins = set(catalog.CONTAINERS["bin"].colours) if "bin" in catalog.CONTAINERS else set()
    colour = next((vocab.colours[w] for w in fixed if w in vocab.colours and vocab.colours[w] in bins), "")
    return f"{colour} bin" if colour else ""


def _canonical_category(text: str) -> str:
    if text in ("", UNLISTED) or text in catalog.TOOLS:
        return text
    if text in vocabulary().families:
        return family_category(text)
    return read_category(text.replace("_", " "))


def canonical_task(task: StructuredTask) -> StructuredTask:
    """A task with its words put into the catalog's names ("hammer" -> claw_hammer, "gray" -> grey, "the left box" ->
    "left bin"): what a chat model's plan may say in its own words."""
    ref = task.reference
    if ref is not None:
        ref = replace(ref, category=_canonical_category(ref.category), colour=read_colour(ref.colour) if ref.colour else "")
    container = task.container if task.container in ("", PARTS_TRAY, HANDOVER) else (read_container(task.container) or task.container)
    groups = tuple(sorted({(catalog.CATALOG[c].family if c in catalog.CATALOG else c, read_container(b) or b)
                           for c, b in ((_canonical_category(f), b) for f, b in task.groups)}))
    return replace(task, reference=ref, container=container, groups=groups)
