"""What a job will cost before it is sent: the user's price table, or what the same job really cost.

APIMart bills at completion and publishes no price a client can rely on for video models, so an
estimate comes from one of two places, and the larger one wins when both give one:

- ``spend_prices``, set by the user (operator argument or the connection's extra)::

      {"wan2.7": 0.4,                                      # every job of the model
       "kling-v2-6": {"per_second": 0.09},                 # times the request's duration
       "wan2.6": [{"when": {"resolution": "1080p"}, "price": 0.6}, {"price": 0.3}]}

  A list of rules is read in order; the first whose ``when`` matches the request gives the price.
  ``per_second`` multiplies by the request's ``duration`` (no duration: no price).
- the highest real ``cost`` a completed job of the same model and the same price-driving
  parameters (:data:`PRICE_PARAMETERS`) was billed, which the spend store learns at each settle.

With neither, there is no estimate and a limit fails closed (:class:`ApimartPriceUnknownError`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from airflow_provider_apimart.exceptions import ApimartConfigurationError

#: The request parameters that drive a video's price on APIMart's model pages (resolution, length,
#: quality tier, sound); a learned price is kept per model and per value of each.
PRICE_PARAMETERS = ("resolution", "duration", "mode", "quality", "size", "generate_audio", "audio")


@dataclass(frozen=True)
class PriceRule:
    when: dict[str, Any]
    price: float
    per_second: bool

    def matches(self, body: dict[str, Any]) -> bool:
        return all(_same(body.get(name), value) for name, value in self.when.items())

    def price_of(self, body: dict[str, Any]) -> float | None:
        if not self.per_second:
            return self.price
        duration = body.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, int | float | str):
            return None
        try:
            seconds = float(duration)
        except ValueError:
            return None
        return self.price * seconds if math.isfinite(seconds) and seconds > 0 else None


@dataclass(frozen=True)
class PriceTable:
    """The user's ``spend_prices``, checked once: model name to its rules."""

    rules: dict[str, tuple[PriceRule, ...]]

    @classmethod
    def parse(cls, value: object, *, where: str) -> PriceTable:
        """Read ``spend_prices`` (a dict, or its JSON text from a connection extra)."""
        if value is None or value == "":
            return cls({})
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ApimartConfigurationError(f"{where}: spend_prices is not JSON ({error}).") from None
        if not isinstance(value, dict):
            raise ApimartConfigurationError(f"{where}: spend_prices must map model names to prices.")
        return cls({str(model): _rules(model, entry, where) for model, entry in value.items()})

    def price_of(self, body: dict[str, Any]) -> float | None:
        """The table's price of the job ``body`` describes; None when no rule gives one."""
        for rule in self.rules.get(str(body.get("model")), ()):
            if rule.matches(body):
                return rule.price_of(body)
        return None


@dataclass(frozen=True)
class Estimate:
    """A job's expected cost and where it comes from (for the log, the XCom and the errors)."""

    amount: float
    source: str


def price_signature(body: dict[str, Any]) -> str:
    """The model and price-driving parameters of ``body``: jobs alike in price share it."""
    driving = {name: body[name] for name in PRICE_PARAMETERS if body.get(name) is not None}
    return json.dumps([body.get("model"), driving], sort_keys=True, separators=(",", ":"), default=str)


def estimate(body: dict[str, Any], table: PriceTable, learned: float | None) -> Estimate | None:
    """The larger of the table's price and the highest one billed for the same job; None: unknown."""
    listed = table.price_of(body)
    if learned is not None and (listed is None or learned > listed):
        return Estimate(learned, "the highest cost billed for the same model and parameters")
    return Estimate(listed, "spend_prices") if listed is not None else None


def _rules(model: object, entry: object, where: str) -> tuple[PriceRule, ...]:
    entries = entry if isinstance(entry, list) else [entry]
    rules = tuple(_rule(model, item, where) for item in entries)
    if not rules:
        raise ApimartConfigurationError(f"{where}: spend_prices[{model!r}] has no price.")
    return rules


def _rule(model: object, item: object, where: str) -> PriceRule:
    name = f"{where}: spend_prices[{model!r}]"
    if _is_price(item):
        return PriceRule({}, float(item), per_second=False)  # type: ignore[arg-type]
    if isinstance(item, int | float) and not isinstance(item, bool):
        raise ApimartConfigurationError(f"{name}: {item!r} is not a finite price of 0 or more.")
    if not isinstance(item, dict):
        raise ApimartConfigurationError(f"{name} must be a price, a rule or a list of rules.")
    unknown = set(item) - {"when", "price", "per_second"}
    if unknown:
        raise ApimartConfigurationError(f"{name} has unknown keys {sorted(unknown)}.")
    if ("price" in item) == ("per_second" in item):
        raise ApimartConfigurationError(f"{name} needs either 'price' (per job) or 'per_second'.")
    price = item.get("price", item.get("per_second"))
    if not _is_price(price):
        raise ApimartConfigurationError(f"{name}: {price!r} is not a finite price of 0 or more.")
    when = item.get("when", {})
    if not isinstance(when, dict):
        raise ApimartConfigurationError(f"{name}: 'when' must map parameter names to values.")
    return PriceRule(dict(when), float(price), per_second="per_second" in item)  # type: ignore[arg-type]


def _is_price(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def _same(actual: object, wanted: object) -> bool:
    """Request values compare as text, case-blind: ``"1080P"`` is the rule's ``"1080p"``."""
    if actual is None:
        return wanted is None
    return str(actual).strip().lower() == str(wanted).strip().lower()
