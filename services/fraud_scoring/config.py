"""Scoring configuration: every threshold and weight the rules use, validated up front.

The platform stores this as JSON (an SSM parameter for the Lambdas, the `scoring` part of the
API configuration secret for the container API). `ScoringConfig.from_mapping` accepts a partial
mapping on top of the defaults, refuses unknown keys (a typo must not silently fall back to a
default) and reports every problem at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

Decision = Literal["approve", "review", "decline"]

_COUNTRY = re.compile(r"[A-Z]{2}")
_MCC = re.compile(r"[0-9]{4}")
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
    first_transaction: float = 0.10
    new_country: float = 0.25
    new_merchant: float = 0.05


@dataclass(frozen=True)
class AmountSpike:
    """Amount at least `multiplier` times the median of the user's history (needs `min_history` items)."""

    multiplier: Decimal = Decimal(5)
    min_history: int = 3
    weight: float = 0.30


@dataclass(frozen=True)
class HistoryLimits:
    """How much of a user's history the callers load: bounds the read per scored transaction."""

    lookback_hours: int = 720
    max_items: int = 200


@dataclass(frozen=True)
class PatternThresholds:
    """Thresholds of the scheduled pattern analysis (over the analysis window, not one transaction)."""

    burst_window_seconds: int = 120
    burst_min_transactions: int = 8
    user_suspicious_min: int = 3
    merchant_suspicious_min: int = 5
    spike_multiplier: Decimal = Decimal(5)
    spike_min_transactions: int = 4
    max_alerts_per_run: int = 100


def _default_amount_tiers() -> tuple[AmountTier, ...]:
    return (
        AmountTier(Decimal(1_000), 0.15),
        AmountTier(Decimal(5_000), 0.35),
        AmountTier(Decimal(10_000), 0.55),
        AmountTier(Decimal(50_000), 0.75),
    )


def _default_velocity_windows() -> tuple[VelocityWindow, ...]:
    return (
        VelocityWindow("1m", 60, 3, Decimal(3_000), 0.40),
        VelocityWindow("1h", 3_600, 15, Decimal(20_000), 0.30),
    )


# Sanctioned or FATF "call for action" jurisdictions; operators tune this list in the parameter.
_DEFAULT_HIGH_RISK_COUNTRIES = frozenset({"KP", "IR", "MM", "SY", "CU"})
# Gambling, quasi-cash, money transfer, direct marketing: classic card-fraud cash-out categories.
_DEFAULT_HIGH_RISK_MCCS = frozenset({"7995", "6051", "4829", "5967"})


@dataclass(frozen=True)
class ScoringConfig:
    review_threshold: float = 0.50
    decline_threshold: float = 0.80
    amount_tiers: tuple[AmountTier, ...] = field(default_factory=_default_amount_tiers)
    velocity_windows: tuple[VelocityWindow, ...] = field(default_factory=_default_velocity_windows)
    high_risk_countries: frozenset[str] = _DEFAULT_HIGH_RISK_COUNTRIES
    high_risk_country_weight: float = 0.35
    high_risk_merchant_categories: frozenset[str] = _DEFAULT_HIGH_RISK_MCCS
    high_risk_merchant_category_weight: float = 0.25
    first_seen: FirstSeenWeights = field(default_factory=FirstSeenWeights)
    amount_spike: AmountSpike = field(default_factory=AmountSpike)
    history: HistoryLimits = field(default_factory=HistoryLimits)
    patterns: PatternThresholds = field(default_factory=PatternThresholds)

    def __post_init__(self) -> None:
        problems = _problems_of(self)
        if problems:
            raise ConfigError(problems)

    @classmethod
    def default(cls) -> ScoringConfig:
        return cls()

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
        if not _COUNTRY.fullmatch(c)
    ]
    problems += [
        f"high_risk_merchant_categories: {m!r} is not a 4-digit MCC"
        for m in sorted(config.high_risk_merchant_categories)
        if not _MCC.fullmatch(m)
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
            self._take(data, kwargs, name, name, self._float)
        self._take(data, kwargs, "amount_tiers", "amount_tiers", self._amount_tiers)
        self._take(data, kwargs, "velocity_windows", "velocity_windows", self._velocity_windows)
        self._take(data, kwargs, "high_risk_countries", "high_risk_countries", self._string_set)
        self._take(data, kwargs, "high_risk_merchant_categories", "high_risk_merchant_categories", self._string_set)
        groups: dict[str, type] = {
            "first_seen": FirstSeenWeights,
            "amount_spike": AmountSpike,
            "history": HistoryLimits,
            "patterns": PatternThresholds,
        }
        for name, group in groups.items():
            self._take(data, kwargs, name, name, lambda value, where, group=group: self._group(value, where, group))
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
        self, data: dict[str, Any], kwargs: dict[str, Any], key: str, where: str, read: Callable[[Any, str], Any]
    ) -> None:
        if key in data:
            value = read(data[key], where)
            if value is not None:
                kwargs[key] = value

    def _group(self, value: Any, where: str, cls: type[T]) -> T | None:
        data = self._object(value, where, cls)
        if data is None:
            return None
        kwargs: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            read = {float: self._float, int: self._int, Decimal: self._decimal}[_field_type(cls, f.name)]
            self._take(data, kwargs, f.name, f"{where}.{f.name}", read)
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
