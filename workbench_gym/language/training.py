"""Training of the instruction reader's network on the generated corpus (`scripts/train_reader.py` runs it).

MiniLM stays frozen: its word vectors are computed once per example, and only the small network on top learns, so
training takes minutes on a CPU and the weights are a few hundred kilobytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench_gym.language.corpus import TAGS, Example
from workbench_gym.language.reader import ReaderConfig, build_network, decode, lexicon_features
from workbench_gym.language.task import INTENTS


def encode_examples(examples: Sequence[Example], batch_size: int = 128, progress: bool = True) -> list[np.ndarray]:
    """MiniLM word vectors of every example (float16 to halve the memory)."""
    from workbench_gym.language.encoder import word_vectors

    order = sorted(range(len(examples)), key=lambda i: len(examples[i].words))  # similar lengths pad less
    out: list[np.ndarray | None] = [None] * len(examples)
    batches = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="encoding the corpus", unit="batch")
    for batch in batches:
        for i, vectors in zip(batch, word_vectors([list(examples[i].words) or ["."] for i in batch])):
            out[i] = vectors.astype(np.float16)
    return out


def _batch(examples: Sequence[Example], vectors: Sequence[np.ndarray], index: Sequence[int], lexicons: Sequence[np.ndarray] | None = None):
    """Padded tensors of a batch: vectors, lexicon features, mask, tag targets (-100 pads), intent targets (-100 replies)."""
    import torch

    from workbench_gym.language.encoder import DIM
    from workbench_gym.language.reader import LEXICON

    width = max(max(len(examples[i].words), 1) for i in index)
    v = torch.zeros(len(index), width, DIM)
    lex = torch.zeros(len(index), width, len(LEXICON))
    mask = torch.zeros(len(index), width, dtype=torch.bool)
    tags = torch.full((len(index), width), -100, dtype=torch.long)
    intents = torch.full((len(index),), -100, dtype=torch.long)
    for row, i in enumerate(index):
        example, n = examples[i], len(examples[i].words)
        if n:
            v[row, :n] = torch.from_numpy(vectors[i][:n].astype(np.float32))
            lex[row, :n] = torch.from_numpy(lexicons[i] if lexicons is not None else lexicon_features(list(example.words)))
            tags[row, :n] = torch.tensor([TAGS.index(t) for t in example.tags])
        mask[row, : max(n, 1)] = True
        if example.task is not None:
            intents[row] = INTENTS.index(example.task.intent)
    return v, lex, mask, tags, intents


def train_network(examples: Sequence[Example], vectors: Sequence[np.ndarray], config: ReaderConfig | None = None,
                  epochs: int = 10, batch_size: int = 64, lr: float = 2e-3, seed: int = 0, progress: bool = True):
    """Train the network on tagged examples; returns it (in eval mode) and the mean loss of each epoch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = build_network(config or ReaderConfig())
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    rng = np.random.default_rng(seed)
    lexicons = [lexicon_features(list(e.words)) for e in examples]
    history = []
    epochs_iter = range(epochs)
    if progress:
        from tqdm import tqdm

        epochs_iter = tqdm(epochs_iter, desc="training the reader", unit="epoch")
    for _ in epochs_iter:
        net.train()
        order = rng.permutation(len(examples))
        losses = []
        for start in range(0, len(order), batch_size):
            v, lex, mask, tags, intents = _batch(examples, vectors, order[start: start + batch_size], lexicons)
            tag_logits, intent_logits = net(v, lex, mask)
            loss = loss_fn(tag_logits.reshape(-1, len(TAGS)), tags.reshape(-1))
            if (intents >= 0).any():
                loss = loss + loss_fn(intent_logits, intents)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)))
    return net.eval(), history


def predict(net, examples: Sequence[Example], vectors: Sequence[np.ndarray], batch_size: int = 256) -> list[tuple[list[str], str]]:
    """(tags, intent) the network gives each example."""
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            index = list(range(start, min(start + batch_size, len(examples))))
            v, lex, mask, _, _ = _batch(examples, vectors, index)
            tag_logits, intent_logits = net(v, lex, mask)
            for row, i in enumerate(index):
                n = len(examples[i].words)
                out.append(([TAGS[t] for t in tag_logits[row, :n].argmax(-1).tolist()], INTENTS[int(intent_logits[row].argmax())]))
    return out


def accuracy(net, examples: Sequence[Example], vectors: Sequence[np.ndarray]) -> dict[str, float]:
    """Word-tag accuracy, intent accuracy and whole-task accuracy (decoded) on held-back generated examples."""
    predictions = predict(net, examples, vectors)
    words = tags_right = intents = intents_right = tasks_right = 0
    for example, (tags, intent) in zip(examples, predictions):
        words += len(tags)
        tags_right += sum(a == b for a, b in zip(tags, example.tags))
        if example.task is not None:
            intents += 1
            intents_right += intent == example.task.intent
            tasks_right += decode(list(example.words), tags, intent) == example.task
    return {"tags": tags_right / max(words, 1), "intent": intents_right / max(intents, 1), "task": tasks_right / max(intents, 1)}
