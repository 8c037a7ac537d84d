"""`NativeBackend`: grounds referring expressions and answers bench questions from one RGB-D view, offline.

Per frame (cached by a hash of its bytes) it cuts class-agnostic proposals from depth and encodes
each once, and a screwdriver's kind is read again from its tip at full resolution (`tips.TipReader`); per phrase
(cached) it embeds the noun. A phrase's score on a proposal is the product of
the model's probabilities for its noun and colour and, when a size word is given, whether the
measured length fits that catalog size. Superlatives, "leftmost", "middle", "left of the X" and
"nearest the tray" then choose among the proposals that fit, using measured 3D extents and positions.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench_gym.language.grammar import Query, noun_categories, parse_phrase
from workbench_gym.language.reader import read_instruction
from workbench_gym.language.task import StructuredTask
from workbench_gym.language.vocabulary import category_texts
from workbench_gym.policies.backend import Region, View
from workbench_gym.policies.native.features import features
from workbench_gym.policies.native.model import DEFAULT_WEIGHTS, GroundingModel
from workbench_gym.policies.native.text import TextEncoder, shared_encoder
from workbench_gym.policies.native.tips import DEFAULT_TIP_WEIGHTS, KINDS, TipModel, TipReader
from workbench_gym.policies.native.vocabulary import CATEGORIES, COLOUR_WORDS
from workbench_gym.policies.perception.proposals import FrameAnalysis, ProposalConfig, analyse
from workbench_gym.scenes.catalog import CATALOG

SPATIAL_FRAMES = ("robot", "image")
_FIT = 0.3  # a proposal fits a phrase when its score reaches this share of the best one's (chosen on training images)
_LENGTH_SPREAD = 0.08  # log-length error of a measured length (8%): occlusion and the pixel grid
_SIZE_FLOOR = 0.05  # a size word lowers, never zeroes, a proposal whose length says another size


@dataclass
class NativeConfig:
    """Options of the native backend. `spatial_frame`: "robot" says left as the robot sees the bench (world +y,
    the envs' convention), "image" as the camera image shows it. `tips`: the tip reader's weights, or None to leave
    Phillips against flathead to the grounding model alone."""

    weights: str | Path = DEFAULT_WEIGHTS
    spatial_frame: str = "robot"
    cache_frames: int = 8
    proposals: ProposalConfig = field(default_factory=ProposalConfig)
    tips: str | Path | None = DEFAULT_TIP_WEIGHTS

    def __post_init__(self):
        if self.spatial_frame not in SPATIAL_FRAMES:
            raise ValueError(f"spatial_frame={self.spatial_frame!r}; expected one of {SPATIAL_FRAMES}")


@dataclass
class _Frame:
    """Everything about one view that does not depend on the phrase."""

    analysis: FrameAnalysis
    vectors: torch.Tensor  # (N, embed) proposal embeddings
    category_probs: np.ndarray  # (N, len(CATEGORIES))
    colour_probs: np.ndarray  # (N, len(COLOUR_WORDS))
    kind_factor: np.ndarray  # (N, len(KINDS)): how much the tips changed each screwdriver kind's probability
    leftness: np.ndarray  # (N,) grows to the left in the configured frame
    width: int

    @property
    def proposals(self):
        return self.analysis.proposals


class NativeBackend:
    """Our offline grounding model behind the `Backend` protocol; `plan` reads the instruction with our offline reader.

    The model's weights are taken as fixed when the backend is made (its CNN is folded for inference then, and frames
    and phrases are cached): make a new backend after training or loading other weights into the model.
    """

    name = "native"

    def __init__(self, weights: str | Path | None = None, spatial_frame: str = "robot", cache_frames: int = 8,
                 model: GroundingModel | None = None, text_encoder: TextEncoder | None = None,
                 tips: str | Path | bool | None = True):
        tips = DEFAULT_TIP_WEIGHTS if tips is True else tips or None
        self.config = NativeConfig(weights or DEFAULT_WEIGHTS, spatial_frame, cache_frames, tips=tips)
        self.tips = TipReader(TipModel.load(tips)) if tips else None
        self._kind_columns = tuple(CATEGORIES.index(k) for k in KINDS)
        # A noun that names one of the tip reader's kinds alone ("crosshead screwdriver"), and which one.
        self._tip_nouns = {noun: KINDS.index(next(iter(cats))) for noun, cats in noun_categories().items() if len(cats) == 1 and next(iter(cats)) in KINDS}
        self.model = (model or GroundingModel.load(self.config.weights)).eval()
        self._cnn = self.model.inference_cnn()
        self.text_encoder = text_encoder or shared_encoder()
        self._frames: OrderedDict[bytes, _Frame] = OrderedDict()
        self._texts: dict[str, torch.Tensor] = {}
        self._bank = dict(zip(self.model.bank, self.model.bank_embeddings))

    # --- caches ------------------------------------------------------------------------------
    def text_vectors(self, phrases: list[str]) -> torch.Tensor:
        """Projected unit vectors of phrases; bank phrases use the embeddings stored with the weights."""
        missing = [p for p in dict.fromkeys(phrases) if p not in self._texts]
        if missing:
            unknown = [p for p in missing if p not in self._bank]
            encoded = dict(zip(unknown, torch.from_numpy(self.text_encoder.encode(unknown)))) if unknown else {}
            raw = torch.stack([self._bank[p] if p in self._bank else encoded[p] for p in missing])
            with torch.no_grad():
                self._texts.update(zip(missing, self.model.encode_texts(raw)))
        return torch.stack([self._texts[p] for p in phrases])

    def frame(self, view: View) -> _Frame:
        """Proposals and their embeddings for a view, computed once per distinct frame."""
        key = _frame_key(view)
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        analysis = analyse(view.rgb, view.depth, view.intrinsics, view.extrinsics, self.config.proposals)
        crops, geo = features(view.rgb, analysis.height, analysis.proposals)
        with torch.no_grad():
            vectors = self.model.encode_crops(torch.from_numpy(crops), torch.from_numpy(geo), self._cnn)
            names = [category_texts(c)[0] for c in CATEGORIES]
            category = torch.sigmoid(self.model.pair_logits(vectors, self.text_vectors(names))).numpy()
            colour = torch.sigmoid(self.model.pair_logits(vectors, self.text_vectors(list(COLOUR_WORDS)))).numpy()
        kind_factor = np.ones((len(analysis.proposals), len(KINDS)))
        if self.tips is not None and analysis.proposals:
            proposals = analysis.proposals
            refined = self.tips.refine(category, view.rgb, [p.mask for p in proposals], self._kind_columns, [p.box for p in proposals])
            columns = list(self._kind_columns)
            kind_factor = refined[:, columns] / np.maximum(category[:, columns], 1e-6)
            category = refined
        if self.config.spatial_frame == "robot":
            leftness = np.array([p.centre[1] for p in analysis.proposals], np.float32)
        else:
            leftness = -np.array([p.point[0] for p in analysis.proposals], np.float32) / view.rgb.shape[1]
        out = _Frame(analysis, vectors, category, colour, kind_factor, leftness, view.rgb.shape[1])
        self._frames[key] = out
        if len(self._frames) > self.config.cache_frames:
            self._frames.popitem(last=False)
        return out

    def forget_frames(self) -> None:
        """Drop every analysed frame (what an uncached latency figure needs at an episode's start)."""
        self._frames.clear()

    # --- scoring -----------------------------------------------------------------------------
    def phrase_scores(self, frame: _Frame, query: Query) -> np.ndarray:
        """(N,) probability-like score that each proposal is what the query's noun, colour and size say."""
        n = len(frame.proposals)
        if n == 0:
            return np.zeros(0)
        with torch.no_grad():
            if query.noun:
                score = torch.sigmoid(self.model.pair_logits(frame.vectors, self.text_vectors([query.noun]))[:, 0]).numpy()
                if query.noun in self._tip_nouns:  # the tips' word on Phillips against flathead
                    score = np.minimum(score * frame.kind_factor[:, self._tip_nouns[query.noun]], 1.0)
            else:  # "the red one": any tool
                score = 1.0 - np.array([p.is_container for p in frame.proposals], float) * 0.9
        if query.colour:
            score = score * frame.colour_probs[:, COLOUR_WORDS.index(query.colour)]
        if query.size:
            score = score * np.array([max(self.size_probs(frame, i)[query.size], _SIZE_FLOOR) for i in range(n)])
        return score

    def size_probs(self, frame: _Frame, index: int) -> dict[str, float]:
        """How well the measured length fits each catalog size of the recognised category (sums to 1)."""
        sizes = CATALOG[CATEGORIES[int(frame.category_probs[index].argmax())]].sizes
        length = max(float(frame.proposals[index].extent[0]), 1e-3)
        fit = {s: np.exp(-0.5 * (np.log(length / nominal) / _LENGTH_SPREAD) ** 2) for s, nominal in sizes.items()}
        total = sum(fit.values()) or 1.0
        return {s: v / total for s, v in fit.items()}

    def resolve(self, frame: _Frame, query: Query) -> tuple[np.ndarray, int | None]:
        """Scores of all proposals and the index the whole expression picks (None when nothing fits)."""
        score = self.phrase_scores(frame, query)
        if score.size == 0:
            return score, None
        fit = np.flatnonzero(score >= _FIT * score.max())
        if query.relation:
            anchor_scores, anchor = self.resolve(frame, parse_phrase(query.anchor))
            if anchor is not None:
                fit = fit[fit != anchor]
                if query.relation == "nearest":
                    distance = [np.hypot(*(frame.proposals[i].centre[:2] - frame.proposals[anchor].centre[:2])) for i in fit]
                    fit = fit[np.argsort(distance)[:1]] if len(fit) else fit
                else:
                    sign = 1.0 if query.relation == "left of" else -1.0
                    side = fit[sign * (frame.leftness[fit] - frame.leftness[anchor]) > 0]
                    fit = side if len(side) else fit
        if len(fit) == 0:
            return score, int(score.argmax())
        if query.order in ("largest", "smallest"):
            lengths = np.array([frame.proposals[i].extent[0] for i in fit])
            chosen = fit[lengths.argmax() if query.order == "largest" else lengths.argmin()]
        elif query.order in ("leftmost", "rightmost"):
            chosen = fit[frame.leftness[fit].argmax() if query.order == "leftmost" else frame.leftness[fit].argmin()]
        elif query.order == "middle":
            chosen = fit[np.argsort(frame.leftness[fit])[len(fit) // 2]]
        else:
            chosen = fit[score[fit].argmax()]
        return score, int(chosen)

    # --- Backend protocol --------------------------------------------------------------------
    def ground(self, view: View, phrase: str) -> list[Region]:
        """Every proposal as a region, the one the phrase picks first; others keep their own score."""
        frame = self.frame(view)
        query = parse_phrase(phrase)
        score, chosen = self.resolve(frame, query)
        if chosen is None:
            return []
        selective = bool(query.order or query.relation)
        order = [chosen] + [int(i) for i in np.argsort(-score, kind="stable") if i != chosen]
        regions = []
        for i in order:
            p = frame.proposals[i]
            value = float(score[i])
            if i != chosen and selective:
                value = min(value, 0.5 * float(score[chosen]))  # the order word or relation ruled it out
            label = CATEGORIES[int(frame.category_probs[i].argmax())]
            regions.append(Region(p.box, value, p.mask, label, p.point))
        return regions

    def answer(self, view: View, question: str) -> str:
        """Counts, colours, existence and left/right questions about the tools in view, as short answers."""
        q = question.strip().lower().rstrip("?.! ")
        frame = self.frame(view)
        for pattern, kind in _QUESTIONS:
            m = re.match(pattern, q)
            if m:
                return getattr(self, f"_answer_{kind}")(frame, *m.groups())
        return self._caption(frame)

    def plan(self, view: View, instruction: str) -> StructuredTask | None:
        """The instruction read by the offline instruction reader (`language.reader`): the view is not needed."""
        return read_instruction(instruction)

    # --- answers -----------------------------------------------------------------------------
    def _matching(self, frame: _Frame, noun: str) -> np.ndarray:
        """Indices of proposals the noun phrase (colour included) describes with probability over one half."""
        query = parse_phrase(noun)
        score = self.phrase_scores(frame, query)
        return np.flatnonzero(score >= 0.5)

    def _answer_count(self, frame: _Frame, noun: str) -> str:
        return str(len(self._matching(frame, noun)))

    def _answer_exists(self, frame: _Frame, noun: str) -> str:
        return "yes" if len(self._matching(frame, noun)) else "no"

    def _answer_colour(self, frame: _Frame, noun: str) -> str:
        _, chosen = self.resolve(frame, parse_phrase(noun))
        return "unknown" if chosen is None else COLOUR_WORDS[int(frame.colour_probs[chosen].argmax())]

    def _answer_spatial(self, frame: _Frame, a: str, relation: str, b: str) -> str:
        _, first = self.resolve(frame, parse_phrase(a))
        _, second = self.resolve(frame, parse_phrase(b))
        if first is None or second is None:
            return "I cannot find both"
        left = frame.leftness[first] > frame.leftness[second]
        return "yes" if left == (relation == "left") else "no"

    def _caption(self, frame: _Frame) -> str:
        labels = [CATALOG[CATEGORIES[int(p.argmax())]].display for p in frame.category_probs]
        return f"I see {len(labels)} objects: " + ", ".join(sorted(labels)) if labels else "I see nothing on the bench"


#: (regex over the lower-cased question, answer kind); first match wins.
_QUESTIONS = (
    (r"^(?:how many|count the|tell me the number of|what is the number of) (.+?)"
     r"(?: are there| can you see| do you see| (?:are |lie )?on the (?:work)?bench)*$", "count"),
    (r"^(?:is there an?|are there any|do you see an?y?|can you see an?y?) (.+?)(?: on the (?:work)?bench)?$", "exists"),
    (r"^(?:what colou?r is|which colou?r does|what colou?r does) (.+?)(?: have| has)?$", "colour"),
    (r"^is (.+?) (?:to the )?(left|right) of (.+)$", "spatial"),
)


def _frame_key(view: View) -> bytes:
    """Hash of everything in a view the analysis depends on."""
    h = hashlib.blake2b(digest_size=16)
    for array in (view.rgb, view.depth, view.intrinsics, view.extrinsics):
        if array is not None:
            h.update(np.ascontiguousarray(array).tobytes())
    return h.digest()
