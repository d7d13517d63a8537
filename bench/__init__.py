"""genkit's benchmarks: one command per question, each printing medians and ratios.

Run them from the repository root as modules (``python -m bench.call_overhead``) so
that ``genkit`` and ``fakeprovider`` import from this checkout; see
``bench/README.md`` for what each one measures and why it is measured that way.
"""
