"""A tiny random GPT-2 saved like a hub checkpoint, so tests load it the way users load gpt2.

CI has no network and no GPU: the tests build a 2-layer, 64-wide GPT-2 with random weights
and a byte-level BPE trained in milliseconds on a few sentences, save both with
``save_pretrained`` and hand the directory to ``genkit.load("huggingface:<dir>")``.  The text
it writes is noise; the tests check mechanics (lengths, stops, seeds, streams), not content.

The corpus holds every character the tests use as a stop string (".", "!", "\\n") so those are
real tokens.  "€" is deliberately absent: byte-level BPE then spells it as three byte tokens,
which is what the multi-byte streaming test needs.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub reads it: never touch the network

from pathlib import Path

import pytest

__all__ = ["EOS", "EURO", "build_tiny_gpt2", "tiny_gpt2_path"]

EOS = "<|endoftext|>"
EURO = "€"

_CORPUS = [
    "Once upon a time there was a little fox who lived in the forest.",
    "The quick brown fox jumps over the lazy dog!",
    "She said hello, and he said goodbye.\nThen they walked home.",
    "It was a dark and stormy night; the rain fell in torrents.",
    "All happy families are alike; each unhappy family is unhappy in its own way.",
    "Call me Ishmael. Some years ago, never mind how long precisely.",
    "In a hole in the ground there lived a hobbit!\n\nNot a nasty, dirty, wet hole.",
    "User: tell me a story\nAssistant: once there was a king.\n",
]


def build_tiny_gpt2(directory: Path, *, n_positions: int = 512, seed: int = 0) -> Path:
    """Save a random 2-layer GPT-2, its tokenizer and generation config into ``directory``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, unk_token=EOS
    )
    eos_id = tokenizer.eos_token_id

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=64,
        n_layer=2,
        n_head=4,
        initializer_range=0.1,  # peakier logits than 0.02: varied text, not one repeated token
        bos_token_id=eos_id,
        eos_token_id=eos_id,
    )
    model = GPT2LMHeadModel(config).eval()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    GenerationConfig(bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id).save_pretrained(
        directory
    )
    return directory


@pytest.fixture(scope="session")
def tiny_gpt2_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of a tiny GPT-2 checkpoint, built once per test session."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
