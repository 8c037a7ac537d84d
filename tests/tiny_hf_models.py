"""Tiny random Hugging Face models built offline from configs, saved like a hub checkout, for backend tests.

Their answers are random; they exercise loading, pre/post-processing and parsing. Tokenizers are byte-level BPE
with no merges (one token per byte), or WordPiece over single characters for BERT, so they need no vocabulary files.
"""

import string
from pathlib import Path

import numpy as np


def _byte_vocab(specials, end_of_word=False):
    from tokenizers.pre_tokenizers import ByteLevel

    chars = sorted(ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(chars)}
    if end_of_word:  # CLIP's BPE marks the last character of a word
        vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    for token in specials:
        vocab[token] = len(vocab)
    return vocab


def _clip_text(vocab, max_positions):
    return dict(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=max_positions, bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )


def _clip_tokenizer():
    from transformers import CLIPTokenizer

    vocab = _byte_vocab(["<|startoftext|>", "<|endoftext|>"], end_of_word=True)
    return vocab, CLIPTokenizer(vocab=vocab, merges=[])


def tiny_clip(path: Path, seed: int = 0) -> Path:
    """A CLIP with 32-wide towers on 32x32 images."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(seed)
    vocab, tokenizer = _clip_tokenizer()
    config = CLIPConfig(
        text_config=_clip_text(vocab, 77),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8),
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(path)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    return path


def tiny_owlv2(path: Path, seed: int = 0) -> Path:
    """An OWLv2 on 64x64 inputs (4x4 patches) whose box head is zeroed, so each patch predicts its prior box."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    torch.manual_seed(seed)
    vocab, tokenizer = _clip_tokenizer()
    config = Owlv2Config(
        text_config=_clip_text(vocab, 16),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=64, patch_size=16),
        projection_dim=32,  # OWL's class head compares image features with text embeddings of this width
    )
    model = Owlv2ForObjectDetection(config)
    with torch.no_grad():
        model.box_head.dense2.weight.zero_()
        model.box_head.dense2.bias.zero_()
    model.save_pretrained(path)
    Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 64, "width": 64}), tokenizer=tokenizer).save_pretrained(path)
    return path


def _bert_vocab():
    """A WordPiece vocabulary of single characters, with BERT's special tokens at BERT's ids."""
    # Grounding-DINO finds [CLS], [SEP], "." and "?" by their ids in bert-base-uncased (101, 102, 1012, 1029).
    tokens = [f"[unused{i}]" for i in range(1030)]
    for i, token in {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1012: ".", 1029: "?"}.items():
        tokens[i] = token
    characters = string.ascii_lowercase + string.digits
    pieces = list(characters) + ["##" + c for c in characters] + [c for c in string.punctuation if c not in ".?"]
    tokens[104:104 + len(pieces)] = pieces
    return {token: i for i, token in enumerate(tokens)}


def tiny_grounding_dino(path: Path, seed: int = 0) -> Path:
    """A Grounding-DINO with a 4-stage Swin of width 8, a 1-layer BERT, 32-wide fusion and 20 queries, on images of 48-80 px."""
    import torch
    from transformers import (
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    torch.manual_seed(seed)
    vocab = _bert_vocab()
    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4,
                          out_indices=[2, 3, 4])
    text = {"model_type": "bert", "vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "max_position_embeddings": 32}
    config = GroundingDinoConfig(
        backbone_config=backbone, text_config=text, d_model=32, encoder_layers=1, encoder_ffn_dim=32, encoder_attention_heads=2,
        decoder_layers=2,  # with one layer, transformers rejects its tied box heads
        decoder_ffn_dim=32, decoder_attention_heads=2, encoder_n_points=2, decoder_n_points=2, num_queries=20, max_text_len=32,
        num_feature_levels=3,  # the Swin stages only: a fourth, coarser level would be 1x1 on small images, too small to normalise
    )
    GroundingDinoForObjectDetection(config).save_pretrained(path)
    # The PIL image processor: the torchvision one needs torchvision, which does not install beside the CPU torch wheel.
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 48, "longest_edge": 80})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=BertTokenizer(vocab=vocab, model_max_length=32)).save_pretrained(path)
    return path


SMOLVLM_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}{% if message['content'][0]['type'] == 'image' %}"
    "{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def tiny_smolvlm(path: Path, seed: int = 0) -> Path:
    """An Idefics3 (SmolVLM's architecture) with a llama text model, 32x32 images and SmolVLM's chat template."""
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessorPil, Idefics3Processor, Qwen2Tokenizer

    torch.manual_seed(seed)
    specials = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>", "<global-img>"]
    specials += [f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)]
    vocab = _byte_vocab(specials)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=[], unk_token=None, bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    config = Idefics3Config(
        text_config=dict(
            model_type="llama", vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, max_position_embeddings=2048, bos_token_id=vocab["<|im_start|>"],
            eos_token_id=vocab["<end_of_utterance>"], pad_token_id=vocab["<|endoftext|>"],
        ),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8),
        scale_factor=2, image_token_id=vocab["<image>"], pad_token_id=vocab["<|endoftext|>"],
    )
    Idefics3ForConditionalGeneration(config).save_pretrained(path)
    image_processor = Idefics3ImageProcessorPil(do_image_splitting=False, size={"longest_edge": 32}, max_image_size={"longest_edge": 32})
    processor = Idefics3Processor(image_processor=image_processor, tokenizer=tokenizer, image_seq_len=4, chat_template=SMOLVLM_TEMPLATE)
    processor.save_pretrained(path)
    return path


def top_down_view(width=64, height=64, objects=((10, 20, 30, 26), (40, 40, 48, 48)), object_height=0.02, seed=0):
    """A synthetic RGB-D view from 1 m straight above a bench at x=0.5 m, with raised boxes (x0, y0, x1, y1 pixels)."""
    from workbench_gym.policies.backend import View

    rng = np.random.default_rng(seed)
    rgb = np.full((height, width, 3), 200, np.uint8)
    depth = np.full((height, width), 1.0, np.float32)
    for x0, y0, x1, y1 in objects:
        rgb[y0:y1, x0:x1] = rng.integers(0, 255, 3)
        depth[y0:y1, x0:x1] = 1.0 - object_height
    intrinsics = np.array([[100.0, 0, width / 2], [0, 100.0, height / 2], [0, 0, 1]])
    extrinsics = np.eye(4)  # world to camera: camera x = world x, camera z = world -z, centre at (0.5, 0, 1)
    extrinsics[:3, :3] = np.diag([1.0, -1.0, -1.0])
    extrinsics[:3, 3] = (-0.5, 0.0, 1.0)
    return View(rgb, depth, intrinsics, extrinsics, "front")
