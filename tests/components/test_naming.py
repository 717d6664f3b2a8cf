from __future__ import annotations

import pytest

from components.naming import LOAD_BALANCER_NAME_LIMIT, ResourceNamer


@pytest.fixture
def naming():
    return ResourceNamer(prefix="fraud", suffix="staging", path_root="fraud-detection")


def test_names_carry_prefix_and_suffix(naming):
    assert naming.name("alb") == "fraud-alb-staging"
    assert naming.name("Transaction Processor") == "fraud-transaction-processor-staging"
    assert naming.path("scoring", "thresholds") == "/fraud-detection/staging/scoring/thresholds"


def test_long_names_are_shortened_uniquely_and_keep_the_suffix(naming):
    first = naming.name("blue-green-target-group-blue", max_length=LOAD_BALANCER_NAME_LIMIT)
    second = naming.name("blue-green-target-group-green", max_length=LOAD_BALANCER_NAME_LIMIT)
    assert len(first) <= 32 and len(second) <= 32
    assert first.endswith("-staging") and second.endswith("-staging")
    assert first != second
    assert first == naming.name("blue-green-target-group-blue", max_length=LOAD_BALANCER_NAME_LIMIT)


def test_unusable_parts_are_refused(naming):
    with pytest.raises(ValueError, match="no characters usable"):
        naming.name("!!!")
