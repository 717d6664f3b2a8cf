"""Scoring configuration: every threshold and weight the rules use, validated up front.

The platform stores this as JSON (an SSM parameter for the Lambdas, the `scoring` part of the
API configuration secret for the container API). `ScoringConfig.from_mapping` accepts a partial
mapping on top of the defaults, refuses unknown keys (a typo must not silently fall back to a
default) and reports every problem at once.

The defaults are one document, `scoring.defaults.json` beside this module: the service reads it
here, and the infrastructure (config/settings.py) reads the same file as data to seed the parameter
and the secret, so the two can never disagree. Its high-risk countries are sanctioned or FATF "call
for action" jurisdictions; its merchant categories (gambling, quasi-cash, money transfer, direct
marketing) the classic card-fraud cash-out ones. Operators tune both in the parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from fraud_scoring.validation import COUNTRY_CODE, MERCHANT_CATEGORY_CODE

Decision = Literal["approve", "review", "decline"]

_WINDOW_NAME = re.compile(r"[A-Za-z0-9_]{1,16}")
T = TypeVar("T")


class ConfigError(ValueError):
    """The scoring configuration is unusable; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid scoring config: " + "; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class AmountTier:
    """Transactions at or above `min_amount` carry `weight` (the highest tier reached applies)."""

    min_amount: Decimal
    weight: float


@dataclass(frozen=True)
class VelocityWindow:
    """A user exceeding `max_count` transactions or `max_amount` in total within `seconds`."""

    name: str
    seconds: int
    max_count: int
    max_amount: Decimal
    weight: float


@dataclass(frozen=True)
class FirstSeenWeights:
    first_transaction: float
    new_country: float
    new_merchant: float


@dataclass(frozen=True)
class AmountSpike:
    """Amount at least `multiplier` times the median of the user's history (needs `min_history` items)."""

    multiplier: Decimal
    min_history: int
    weight: float


@dataclass(frozen=True)
class HistoryLimits:
    """How much of a user's history the callers load: bounds the read per scored transaction."""

    lookback_hours: int
    max_items: int


@dataclass(frozen=True)
class PatternThresholds:
    """Thresholds of the scheduled pattern analysis (over the analysis window, not one transaction)."""

    burst_window_seconds: int
    burst_min_transactions: int
    user_suspicious_min: int
    merchant_suspicious_min: int
    spike_multiplier: Decimal
    spike_min_transactions: int
    max_alerts_per_run: int


DEFAULTS_FILE = Path(__file__).with_name("scoring.defaults.json")
# The default document, complete: every key `from_mapping` reads (JSON-shaped, never mutated).
_DEFAULTS: dict[str, Any] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ScoringConfig:
    review_threshold: float
    decline_threshold: float
    amount_tiers: tuple[AmountTier, ...]
    velocity_windows: tuple[VelocityWindow, ...]
    high_risk_countries: frozenset[str]
    high_risk_country_weight: float
    high_risk_merchant_categories: frozenset[str]
    high_risk_merchant_category_weight: float
    first_seen: FirstSeenWeights
    amount_spike: AmountSpike
    history: HistoryLimits
    patterns: PatternThresholds

    def __post_init__(self) -> None:
        problems = _problems_of(self)
        if problems:
            raise ConfigError(problems)

    @classmethod
    def default(cls) -> ScoringConfig:
        """The configuration of `scoring.defaults.json`."""
        return cls.from_mapping({})

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ScoringConfig:
        """Build from JSON-shaped data; missing keys keep their defaults, anything wrong raises ConfigError."""
        reader = _Reader()
        config = reader.scoring_config(mapping)
        if reader.problems:
            raise ConfigError(reader.problems)
        assert config is not None
        return config

    @classmethod
    def from_json(cls, text: str) -> ScoringConfig:
        """Parse the JSON document stored in the configuration parameter or secret."""
        try:
            mapping = json.loads(text)
        except ValueError as error:
            raise ConfigError([f"scoring config: is not valid JSON ({error.__class__.__name__})"]) from None
        return cls.from_mapping(mapping)

    def decide(self, score: float) -> Decision:
        if score >= self.decline_threshold:
            return "decline"
        if score >= self.review_threshold:
            return "review"
        return "approve"

    def to_mapping(self) -> dict[str, Any]:
        """The JSON-shaped form `from_mapping` reads back (numbers as JSON numbers)."""
        return {
            "review_threshold": self.review_threshold,
            "decline_threshold": self.decline_threshold,
            "amount_tiers": [{"min_amount": _number(t.min_amount), "weight": t.weight} for t in self.amount_tiers],
            "velocity_windows": [
                {
                    "name": w.name,
                    "seconds": w.seconds,
                    "max_count": w.max_count,
                    "max_amount": _number(w.max_amount),
                    "weight": w.weight,
                }
                for w in self.velocity_windows
            ],
            "high_risk_countries": sorted(self.high_risk_countries),
            "high_risk_country_weight": self.high_risk_country_weight,
            "high_risk_merchant_categories": sorted(self.high_risk_merchant_categories),
            "high_risk_merchant_category_weight": self.high_risk_merchant_category_weight,
            "first_seen": _plain(self.first_seen),
            "amount_spike": _plain(self.amount_spike),
            "history": _plain(self.history),
            "patterns": _plain(self.patterns),
        }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(group: Any) -> dict[str, Any]:
    return {
        f.name: _number(getattr(group, f.name))
        if isinstance(getattr(group, f.name), Decimal)
        else getattr(group, f.name)
        for f in fields(group)
    }


def _problems_of(config: ScoringConfig) -> list[str]:
    """Cross-field rules, checked however the config was built."""
    problems: list[str] = []
    if not 0 < config.review_threshold < config.decline_threshold <= 1:
        problems.append(
            "thresholds: need 0 < review_threshold < decline_threshold <= 1, got "
            f"review_threshold={config.review_threshold}, decline_threshold={config.decline_threshold}"
        )
    weights = {
        "high_risk_country_weight": config.high_risk_country_weight,
        "high_risk_merchant_category_weight": config.high_risk_merchant_category_weight,
        "first_seen.first_transaction": config.first_seen.first_transaction,
        "first_seen.new_country": config.first_seen.new_country,
        "first_seen.new_merchant": config.first_seen.new_merchant,
        "amount_spike.weight": config.amount_spike.weight,
    }
    weights.update({f"amount_tiers[{i}].weight": tier.weight for i, tier in enumerate(config.amount_tiers)})
    weights.update({f"velocity_windows[{i}].weight": w.weight for i, w in enumerate(config.velocity_windows)})
    for name, weight in weights.items():
        if not 0 <= weight <= 1:
            problems.append(f"{name}: must be between 0 and 1, got {weight}")

    for earlier, later in zip(config.amount_tiers, config.amount_tiers[1:], strict=False):
        if not later.min_amount > earlier.min_amount:
            problems.append("amount_tiers: min_amount must strictly increase from one tier to the next")
        if later.weight < earlier.weight:
            # A larger amount must never lower the score, so tier weights may not decrease.
            problems.append("amount_tiers: weight must not decrease as min_amount increases")
    if any(tier.min_amount <= 0 for tier in config.amount_tiers):
        problems.append("amount_tiers: min_amount must be greater than 0")

    names = [w.name for w in config.velocity_windows]
    if len(set(names)) != len(names):
        problems.append(f"velocity_windows: names must be unique, got {names}")
    for i, window in enumerate(config.velocity_windows):
        if not _WINDOW_NAME.fullmatch(window.name):
            problems.append(f"velocity_windows[{i}].name: must be 1-16 characters from A-Z a-z 0-9 _")
        if window.seconds <= 0 or window.max_count < 1 or window.max_amount <= 0:
            problems.append(f"velocity_windows[{i}]: seconds, max_count and max_amount must be positive")
    longest_window = max((w.seconds for w in config.velocity_windows), default=0)
    if config.history.lookback_hours * 3600 < longest_window:
        problems.append("history.lookback_hours: must cover the longest velocity window")
    if not 1 <= config.history.max_items <= 1000:
        problems.append(f"history.max_items: must be between 1 and 1000, got {config.history.max_items}")
    if config.history.lookback_hours < 1:
        problems.append("history.lookback_hours: must be at least 1")

    problems += [
        f"high_risk_countries: {c!r} is not an ISO 3166-1 alpha-2 code"
        for c in sorted(config.high_risk_countries)
        if not COUNTRY_CODE.fullmatch(c)
    ]
    problems += [
        f"high_risk_merchant_categories: {m!r} is not a 4-digit MCC"
        for m in sorted(config.high_risk_merchant_categories)
        if not MERCHANT_CATEGORY_CODE.fullmatch(m)
    ]

    if config.amount_spike.multiplier <= 1:
        problems.append("amount_spike.multiplier: must be greater than 1")
    if config.amount_spike.min_history < 1:
        problems.append("amount_spike.min_history: must be at least 1")

    p = config.patterns
    for name in (
        "burst_window_seconds",
        "burst_min_transactions",
        "user_suspicious_min",
        "merchant_suspicious_min",
        "spike_min_transactions",
        "max_alerts_per_run",
    ):
        if getattr(p, name) < 1:
            problems.append(f"patterns.{name}: must be at least 1, got {getattr(p, name)}")
    if p.spike_multiplier <= 1:
        problems.append("patterns.spike_multiplier: must be greater than 1")
    return problems


class _Reader:
    """Turns JSON-shaped data into the config dataclasses, collecting type problems as it goes."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def scoring_config(self, mapping: Any) -> ScoringConfig | None:
        data = self._object(mapping, "scoring config", ScoringConfig)
        if data is None:
            return None
        kwargs: dict[str, Any] = {}
        for name in (
            "review_threshold",
            "decline_threshold",
            "high_risk_country_weight",
            "high_risk_merchant_category_weight",
        ):
            self._take(data, _DEFAULTS, kwargs, name, name, self._float)
        self._take(data, _DEFAULTS, kwargs, "amount_tiers", "amount_tiers", self._amount_tiers)
        self._take(data, _DEFAULTS, kwargs, "velocity_windows", "velocity_windows", self._velocity_windows)
        self._take(data, _DEFAULTS, kwargs, "high_risk_countries", "high_risk_countries", self._string_set)
        self._take(
            data, _DEFAULTS, kwargs, "high_risk_merchant_categories", "high_risk_merchant_categories", self._string_set
        )
        groups: dict[str, type] = {
            "first_seen": FirstSeenWeights,
            "amount_spike": AmountSpike,
            "history": HistoryLimits,
            "patterns": PatternThresholds,
        }
        for name, group in groups.items():
            self._take(data, _DEFAULTS, kwargs, name, name, partial(self._group, cls=group, defaults=_DEFAULTS[name]))
        # Build even after type problems (bad values were left out, so defaults stand in) to also
        # report the cross-field problems in the same error.
        try:
            return ScoringConfig(**kwargs)
        except ConfigError as error:
            self.problems += error.problems
            return None

    def _object(self, value: Any, where: str, cls: type) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problems.append(f"{where}: must be a JSON object")
            return None
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in value if key not in known)
        if unknown:
            self.problems.append(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")
        return dict(value)

    def _take(
        self,
        data: dict[str, Any],
        defaults: dict[str, Any],
        kwargs: dict[str, Any],
        key: str,
        where: str,
        read: Callable[[Any, str], Any],
    ) -> None:
        """`kwargs[key]` read from `data`, or from `defaults` where `data` lacks it or it is unreadable."""
        value = read(data[key], where) if key in data else None
        kwargs[key] = read(defaults[key], where) if value is None else value

    def _group(self, value: Any, where: str, cls: type[T], defaults: dict[str, Any]) -> T | None:
        data = self._object(value, where, cls)
        if data is None:
            return None
        kwargs: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            read = {float: self._float, int: self._int, Decimal: self._decimal}[_field_type(cls, f.name)]
            self._take(data, defaults, kwargs, f.name, f"{where}.{f.name}", read)
        return cls(**kwargs)

    def _amount_tiers(self, value: Any, where: str) -> tuple[AmountTier, ...] | None:
        items = self._list(value, where)
        tiers = []
        for i, item in enumerate(items or []):
            data = self._object(item, f"{where}[{i}]", AmountTier)
            if data is None:
                continue
            minimum = self._decimal(data.get("min_amount"), f"{where}[{i}].min_amount")
            weight = self._float(data.get("weight"), f"{where}[{i}].weight")
            if minimum is not None and weight is not None:
                tiers.append(AmountTier(minimum, weight))
        return tuple(tiers) if items is not None else None

    def _velocity_windows(self, value: Any, where: str) -> tuple[VelocityWindow, ...] | None:
        items = self._list(value, where)
        windows = []
        for i, item in enumerate(items or []):
            data = self._object(item, f"{where}[{i}]", VelocityWindow)
            if data is None:
                continue
            at = f"{where}[{i}]"
            parts = (
                self._string(data.get("name"), f"{at}.name"),
                self._int(data.get("seconds"), f"{at}.seconds"),
                self._int(data.get("max_count"), f"{at}.max_count"),
                self._decimal(data.get("max_amount"), f"{at}.max_amount"),
                self._float(data.get("weight"), f"{at}.weight"),
            )
            if all(part is not None for part in parts):
                windows.append(VelocityWindow(*parts))  # type: ignore[arg-type]
        return tuple(windows) if items is not None else None

    def _string_set(self, value: Any, where: str) -> frozenset[str] | None:
        items = self._list(value, where)
        if items is None:
            return None
        if not all(isinstance(item, str) for item in items):
            self.problems.append(f"{where}: must be a list of strings")
            return None
        return frozenset(items)

    def _list(self, value: Any, where: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.problems.append(f"{where}: must be a JSON array")
            return None
        return value

    def _string(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            self.problems.append(f"{where}: must be a string")
            return None
        return value

    def _float(self, value: Any, where: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.problems.append(f"{where}: must be a number")
            return None
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            self.problems.append(f"{where}: must be a finite number")
            return None
        return number

    def _int(self, value: Any, where: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{where}: must be an integer")
            return None
        return value

    def _decimal(self, value: Any, where: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.problems.append(f"{where}: must be a number")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.problems.append(f"{where}: must be a finite number")
            return None
        return number


def _field_type(cls: type, name: str) -> type:
    # Annotations are strings under `from __future__ import annotations`; map the few we use.
    annotation = cls.__annotations__[name]
    return {"float": float, "int": int, "Decimal": Decimal}[annotation]
