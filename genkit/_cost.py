"""What a call cost, from the maintained price data of ``genai-prices``.

genkit keeps no price list of its own: prices change every few weeks and
``genai-prices`` (the ``cost`` extra) tracks them per provider and model,
dated snapshots included.  Nothing here runs on a call's path: ``Usage.cost`` is
computed when it is first read, and ``genai-prices`` (a quarter of a second to
import) is imported then.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from genkit.errors import MissingDependencyError

if TYPE_CHECKING:
    from genkit.types import Usage

__all__ = ["PRICE_PROVIDERS", "usage_cost"]

#: genkit provider -> genai-prices provider id.  A provider missing here (the local
#: backend, the test model, third-party backends) has no price: its cost is ``None``.
PRICE_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
}

PricedAs = tuple[str, str, str]


def usage_cost(usage: Usage, inherited: PricedAs | None = None) -> float | None:
    """US dollars for ``usage``; ``None`` when any priced part's model has no price.

    A part of a sum that was never priced on its own (the ``n`` requests of
    Anthropic's candidate emulation) is priced as the sum is.
    """
    priced_as: PricedAs | None = getattr(usage, "_priced_as", None) or inherited
    parts: tuple[Usage, ...] | None = getattr(usage, "_parts", None)
    if parts:
        total = 0.0
        for part in parts:
            cost = usage_cost(part, priced_as)
            if cost is None:
                return None
            total += cost
        return total
    if priced_as is None:
        return None
    provider, model, requested = priced_as
    return _price(provider, model, requested, usage.input_tokens, usage.output_tokens)


@lru_cache(maxsize=1024)
def _price(
    provider: str, model: str, requested: str, input_tokens: int, output_tokens: int
) -> float | None:
    provider_id = PRICE_PROVIDERS.get(provider)
    if provider_id is None:
        return None
    try:
        import genai_prices
    except ImportError:
        raise MissingDependencyError(provider, "genai-prices", "cost") from None

    usage = genai_prices.Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    # The model the provider says answered (a dated snapshot, priced as such), else
    # the one asked for; Gemini may name it "models/<name>".
    for ref in dict.fromkeys((model.removeprefix("models/"), requested)):
        try:
            price = genai_prices.calc_price(usage, model_ref=ref, provider_id=provider_id)
        except (LookupError, ValueError):
            continue
        return float(price.total_price)
    return None
