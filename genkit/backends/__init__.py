"""Backends: one module per provider, each a subclass of :class:`genkit.backends.base.Backend`.

Nothing here is imported by ``import genkit``; the registry imports a backend module
the first time a model of that provider is loaded.
"""
