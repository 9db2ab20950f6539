"""Where an estimate comes from: the user's table, what the same job really cost, or nowhere."""

from __future__ import annotations

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.spend.prices import PriceTable, estimate, price_signature

TABLE = PriceTable.parse(
    {
        "wan2.7": 0.4,
        "kling-v2-6": {"per_second": 0.09},
        "wan2.6": [{"when": {"resolution": "1080p"}, "price": 0.6}, {"price": 0.3}],
    },
    where="Task 'clip'",
)


@pytest.mark.parametrize(
    ("body", "price"),
    [
        ({"model": "wan2.7", "prompt": "x"}, 0.4),
        ({"model": "kling-v2-6", "duration": 10}, 0.9),
        ({"model": "kling-v2-6"}, None),  # per second, and no duration to multiply
        ({"model": "wan2.6", "resolution": "1080P"}, 0.6),
        ({"model": "wan2.6", "resolution": "720P"}, 0.3),
        ({"model": "sora-2"}, None),
    ],
)
def test_the_first_matching_rule_gives_the_price(body: dict[str, object], price: float | None) -> None:
    assert TABLE.price_of(body) == (pytest.approx(price) if price is not None else None)


def test_the_larger_of_the_table_and_what_was_billed_wins() -> None:
    body = {"model": "wan2.7"}
    assert estimate(body, TABLE, None).amount == 0.4  # type: ignore[union-attr]
    assert estimate(body, TABLE, 0.7).amount == 0.7  # type: ignore[union-attr]
    assert estimate(body, TABLE, 0.1).source == "spend_prices"  # type: ignore[union-attr]
    assert estimate({"model": "sora-2"}, TABLE, None) is None


def test_a_learned_price_is_kept_per_model_and_price_driving_parameters() -> None:
    short, long = {"model": "wan2.7", "duration": 5, "prompt": "a"}, {"model": "wan2.7", "duration": 10}
    assert price_signature(short) == price_signature({"model": "wan2.7", "duration": 5, "prompt": "b"})
    assert price_signature(short) != price_signature(long)


@pytest.mark.parametrize(
    ("prices", "words"),
    [
        ("{not json", "not JSON"),
        ({"wan2.7": -1}, "is not a finite price"),
        ({"wan2.7": {"price": 1, "per_second": 1}}, "either 'price'"),
        ({"wan2.7": {"cost": 1}}, "unknown keys"),
        ({"wan2.7": True}, "must be a price"),
    ],
)
def test_a_bad_price_table_is_refused_naming_the_entry(prices: object, words: str) -> None:
    with pytest.raises(ApimartConfigurationError, match=words):
        PriceTable.parse(prices, where="Task 'clip'")
