"""A tiny random Stable Diffusion pipeline saved like a hub checkpoint.

CI has no network and no GPU, and a real Stable Diffusion is gigabytes: the tests build
every component from a config with random weights (about 78k parameters in all, tens of
milliseconds per 64x64 image on a CPU), ``save_pretrained`` the pipeline into a directory
and hand it to ``genkit.images.load("huggingface:<dir>")``, which reads it through the same
``from_pretrained`` path as a hub id.  Its pictures are noise; the tests check mechanics
(sizes, counts, seeds, batching, editing), not content.

The tokenizer's vocabulary is the two CLIP specials plus every printable ASCII character,
with and without CLIP's end-of-word marker, and no merges: each prompt character is a token.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub reads it: never touch the network

import json
import string
from pathlib import Path
from typing import Any

import pytest

__all__ = ["build_tiny_sd", "tiny_sd_path"]

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"


def _vocab() -> dict[str, int]:
    vocab = {BOS: 0, "!": 1, EOS: 2}  # bos 0, pad 1, eos 2 as the text config says
    for char in string.printable.strip():
        for token in (char, char + "</w>"):
            vocab.setdefault(token, len(vocab))
    return vocab


def build_tiny_sd(directory: Path, *, seed: int = 0, width: int = 1) -> Path:
    """Save a random tiny ``StableDiffusionPipeline`` into ``directory``.

    ``width`` multiplies the channel counts: 1 is the test pipeline, larger ones give the
    bench a model where the denoising dominates genkit's own per-call work.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    files = directory / "tokenizer-source"
    files.mkdir(exist_ok=True)
    vocab = _vocab()
    (files / "vocab.json").write_text(json.dumps(vocab))
    (files / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        vocab_file=str(files / "vocab.json"),
        merges_file=str(files / "merges.txt"),
        model_max_length=77,
    )

    torch.manual_seed(seed)
    channels = (4 * width, 8 * width)
    unet = UNet2DConditionModel(
        block_out_channels=channels,
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
    )
    vae = AutoencoderKL(
        block_out_channels=list(channels),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=2,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(vocab),
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe: Any = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_sd_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of a tiny Stable Diffusion checkpoint, built once per test session."""
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))
