"""The local backend: causal language models with transformers + torch (``huggingface:``)."""

from genkit.backends.huggingface._backend import HuggingFaceBackend

__all__ = ["HuggingFaceBackend"]
