"""The instruction reader: text -> `StructuredTask`, offline, on CPU, in a few milliseconds.

A small network over the offline MiniLM encoder's word vectors (`language.encoder`) reads the intent from the whole
sentence and tags each word with the slot it says (`corpus.TAGS`); it was trained on a generated corpus of
paraphrases (`scripts/train_reader.py`). The tagged words are then read against the catalog (`vocabulary`), with
tolerance for plurals and typos, so the network never needs to know a category's name: a new catalog category is
read without retraining. Words it does not need are tagged "O" and ignored. An instruction it cannot read is intent
"unclear"; a task missing a slot it needs says so in `missing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench_gym.language.corpus import TAGS, words_of
from workbench_gym.language.task import INTENTS, StructuredTask, ToolReference, missing_slots
from workbench_gym.language.vocabulary import (
    NOUN_FILLERS,
    categories_of,
    read_category,
    read_colour,
    read_container,
    singular,
    tokens,
    vocabulary,
)
from workbench_gym.scenes import catalog

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "reader.safetensors"
#: Word features read from the catalog's vocabulary, beside MiniLM's vector (so new catalog words are marked too).
LEXICON = ("tool_name", "colour", "size", "order", "side", "bin", "tray", "punctuation", "unknown")


def lexicon_features(words: list[str]) -> np.ndarray:
    """(n_words, len(LEXICON)) 0/1 features: which vocabulary each word belongs to (plurals read as singular)."""
    vocab = vocabulary()
    tool_words = vocab.tool_words
    out = np.zeros((len(words), len(LEXICON)), np.float32)
    for i, word in enumerate(words):
        parts = [singular(t, vocab.words) for t in tokens(word)]
        if not parts:
            out[i, 7] = 1.0
            continue
        flags = (any(p in tool_words for p in parts), any(p in vocab.colours for p in parts), any(p in vocab.sizes for p in parts),
                 any(p in vocab.orders for p in parts), any(p in vocab.sides for p in parts),
                 any(p in vocab.bin_words for p in parts), any(p in vocab.tray_words for p in parts))
        out[i, :7] = flags
        out[i, 8] = not any(flags) and not all(p in NOUN_FILLERS for p in parts)
    return out


@dataclass(frozen=True)
class ReaderConfig:
    """Sizes of the reader's network (stored with its weights)."""

    hidden: int = 128
    recurrent: int = 96
    dropout: float = 0.1


def build_network(config: ReaderConfig):
    """The network: projected word features -> bidirectional GRU -> a tag per word; pooled -> the intent."""
    import torch
    from torch import nn

    from workbench_gym.language.encoder import DIM

    class ReaderNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = config
            self.project = nn.Sequential(nn.Linear(DIM + len(LEXICON), config.hidden), nn.GELU(), nn.Dropout(config.dropout))
            self.gru = nn.GRU(config.hidden, config.recurrent, batch_first=True, bidirectional=True)
            self.tags = nn.Linear(2 * config.recurrent, len(TAGS))
            self.intent = nn.Sequential(nn.Linear(DIM + 2 * config.recurrent, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
                                        nn.Linear(config.hidden, len(INTENTS)))

        def forward(self, vectors: torch.Tensor, lexicon: torch.Tensor, mask: torch.Tensor):
            """vectors (B, W, DIM), lexicon (B, W, L), mask (B, W) bool -> tag logits (B, W, T), intent logits (B, I)."""
            x = self.project(torch.cat([vectors, lexicon], -1))
            h, _ = self.gru(x)
            m = mask.unsqueeze(-1).float()
            mean = (vectors * m).sum(1) / m.sum(1).clamp(min=1.0)
            peak = h.masked_fill(~mask.unsqueeze(-1), -1e4).max(1).values
            return self.tags(h), self.intent(torch.cat([mean, peak], -1))

    return ReaderNet()


def save_network(net, path: str | Path, extra: dict | None = None) -> None:
    """Weights as safetensors; the config, tags and intents in its metadata, so a mismatch is caught at load."""
    from safetensors.torch import save_file

    meta = {"config": json.dumps(net.config.__dict__), "tags": json.dumps(TAGS), "intents": json.dumps(INTENTS),
            "lexicon": json.dumps(LEXICON), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)


def load_network(path: str | Path):
    """The network saved by `save_network`; ValueError when it was trained for other tags, intents or features."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no reader weights at {path}; train them with scripts/train_reader.py")
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    for key, expected in (("tags", TAGS), ("intents", INTENTS), ("lexicon", LEXICON)):
        if tuple(json.loads(meta.get(key, "[]"))) != tuple(expected):
            raise ValueError(f"{path} was trained for {key} {meta.get(key)}; this code expects {list(expected)}: retrain with scripts/train_reader.py")
    net = build_network(ReaderConfig(**json.loads(meta["config"])))
    net.load_state_dict(load_file(str(path)))
    return net.eval()


# --- tags -> a structured task -----------------------------------------------------------------------------------

#: Words that end one item of a list ("wrenches left, screwdrivers in the middle and pliers right").
CLAUSE_BREAKS = frozenset({",", ";", ".", "!", "and", "then", "finally", "also", "plus", "while", "&"})


def _spans(words: list[str], tags: list[str]) -> list[tuple[str, list[str]]]:
    """Runs of words with one tag: [(tag, words)], "O" left out."""
    return [(label, words_) for label, words_, _ in _indexed_spans(words, tags)]


def _indexed_spans(words: list[str], tags: list[str]) -> list[tuple[str, list[str], int]]:
    """Runs of words with one tag and the clause each starts in: [(tag, words, clause)], "O" left out."""
    out: list[tuple[str, list[str], int]] = []
    previous, clause = "O", 0
    for word, label in zip(words, tags):
        if label == "O" and word.lower() in CLAUSE_BREAKS:
            clause += 1
        if label != "O":
            if label == previous:
                out[-1][1].append(word)
            else:
                out.append((label, [word], clause))
        previous = label
    return out


def _family(category: str) -> str:
    if category in catalog.CATALOG:
        return catalog.CATALOG[category].family
    return category if category in vocabulary().families else ""


def _pair_runs(items: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Pairs from alternating runs of families and bins: each run with the run after it (one bin for all, or in turn)."""
    runs: list[tuple[str, list[str]]] = []
    for kind, value in items:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(value)
        else:
            runs.append((kind, [value]))
    pairs, i = set(), 0
    while i + 1 < len(runs):
        (kind, first), (_, second) = runs[i], runs[i + 1]
        families, bins = (first, second) if kind == "TOOL" else (second, first)
        pairs.update((f, bins[0]) for f in families) if len(bins) == 1 else pairs.update(zip(families, bins))
        i += 2
    return pairs


def _groups(words: list[str], tags: list[str]) -> tuple[tuple[str, str], ...]:
    """(family, bin) pairs of a sort: within each clause of a list, else by runs ("wrenches, screwdrivers and pliers
    in the left, middle and right bins")."""
    items = []  # (kind, value, clause)
    for label, span, clause in _indexed_spans(words, tags):
        if label == "TOOL" and (family := _family(read_category(span))):
            items.append(("TOOL", family, clause))
        elif label == "CONT" and (container := read_container(span)).endswith(" bin"):
            items.append(("CONT", container, clause))
    kinds = [k for k, _, _ in items]
    n = kinds.count("TOOL")
    if n >= 2 and kinds == ["TOOL"] * n + ["CONT"] * n:  # the respectively form
        return tuple(sorted(zip([v for k, v, _ in items[:n]], [v for k, v, _ in items[n:]])))
    pairs, left = set(), []
    for clause in dict.fromkeys(c for _, _, c in items):
        inside = [(k, v) for k, v, c in items if c == clause]
        if {k for k, _ in inside} == {"TOOL", "CONT"}:
            pairs |= _pair_runs(inside)
        else:
            left += inside
    return tuple(sorted(pairs | _pair_runs(left)))


def _widened(words: list[str], tags: list[str]) -> list[str]:
    """Tags with each tool phrase widened over up to two untagged words before it when, read together, they name a
    narrower catalog category: a misspelt "cresent wrench" the network left half-tagged."""
    tags = list(tags)
    for i, label in enumerate(tags):
        if label != "TOOL" or (i and tags[i - 1] == "TOOL"):
            continue
        end = i
        while end < len(tags) and tags[end] == "TOOL":
            end += 1
        named = set(categories_of(read_category(words[i:end])))
        for start in (i - 1, i - 2):
            if start < 0 or any(t != "O" for t in tags[start:i]):
                break
            wider = set(categories_of(read_category(words[start:end])))
            if wider and named and wider < named:
                tags[start:i] = ["TOOL"] * (i - start)
                break
    return tags


def reference_of(words: list[str], tags: list[str], every: bool = False) -> ToolReference:
    """The tool reference the tagged words say: the first tool phrase that names something, colour, size, order, relation."""
    spans = _spans(words, _widened(words, tags))
    category = next((c for label, ws in spans if label == "TOOL" and (c := read_category(ws))), "")
    colour = next((c for label, ws in spans if label == "COLOUR" and (c := read_colour(ws))), "")
    size = next((label.split("_", 1)[1] for label, _ in spans if label.startswith("SIZE_")), "")
    order = next((label.split("_", 1)[1] for label, _ in spans if label.startswith("ORDER_")), "")
    relation = next((label.split("_", 1)[1] for label, _ in spans if label.startswith("REL_")), "")
    return ToolReference(category, colour, size, order, relation, every)


def decode(words: list[str], tags: list[str], intent: str) -> StructuredTask:
    """The structured task of tagged words read with `intent` (pure rules over the vocabulary: no network)."""
    if intent == "sort":
        return StructuredTask("sort", groups=_groups(words, tags))
    if intent == "unclear":
        return StructuredTask("unclear", missing=missing_slots("unclear", None))
    ref = reference_of(words, tags, every=intent in ("count", "collect"))
    container = ""
    if intent in ("place", "collect"):
        container = read_container([w for w, t in zip(words, tags) if t == "CONT"])
    return StructuredTask(intent, ref, container, missing=missing_slots(intent, ref, container))


def merge_reply(reply: ToolReference, previous: ToolReference | None) -> ToolReference:
    """A reply read as a refinement of the reference it answers: the reply's words win, the rest is kept.

    A reply naming another kind of tool than the reference ("I mean the hex key" after "the torque wrench") starts
    afresh; one naming the same kind or a family that holds it ("the small wrench") refines it.
    """
    if previous is None:
        return reply
    same = not reply.category or reply.category == previous.category or reply.category == _family(previous.category)
    if not same:
        return reply
    return replace(previous, colour=reply.colour or previous.colour, size=reply.size or previous.size,
                   order=reply.order or ("" if reply.size else previous.order), relation=reply.relation or previous.relation)


class InstructionReader:
    """Reads instructions and replies with the trained network; `read` takes a few milliseconds on a CPU."""

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, network=None):
        self.network = network if network is not None else load_network(weights)

    def tag(self, text: str) -> tuple[list[str], list[str], str]:
        """The words of `text`, their tags and the intent (an empty text is "unclear" without a look)."""
        import torch

        from workbench_gym.language.encoder import word_vectors

        words = words_of(text)
        if not any(w.isalnum() for w in words):
            return words, ["O"] * len(words), "unclear"
        vectors = torch.from_numpy(word_vectors([words])[0])[None]
        lexicon = torch.from_numpy(lexicon_features(words))[None]
        with torch.inference_mode():
            tag_logits, intent_logits = self.network(vectors, lexicon, torch.ones(1, len(words), dtype=torch.bool))
        tags = [TAGS[i] for i in tag_logits[0].argmax(-1).tolist()]
        return words, tags, INTENTS[int(intent_logits[0].argmax())]

    def read(self, text: str) -> StructuredTask:
        """The structured task of an instruction."""
        words, tags, intent = self.tag(text)
        return decode(words, tags, intent)

    def read_reply(self, text: str, previous: ToolReference | None = None) -> ToolReference:
        """A supervisor's reply ("I mean the small one") as the reference it makes of `previous`."""
        words, tags, _ = self.tag(text)
        return merge_reply(reference_of(words, tags), previous)


@lru_cache(maxsize=1)
def shared_reader() -> InstructionReader:
    """One reader per process (the shipped weights), loaded on first use."""
    return InstructionReader()


def read_instruction(text: str) -> StructuredTask:
    """Read an instruction with the shipped reader: "could you grab the biggest spanner?" -> pick, combination_wrench, largest."""
    if not isinstance(text, str):
        raise TypeError(f"an instruction is text, got {type(text).__name__}")
    return shared_reader().read(text)


def read_reply(text: str, previous: ToolReference | None = None) -> ToolReference:
    """Read a supervisor's reply as a refinement of `previous` (size, colour, place or order words)."""
    if not isinstance(text, str):
        raise TypeError(f"a reply is text, got {type(text).__name__}")
    return shared_reader().read_reply(text, previous)
