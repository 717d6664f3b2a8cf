from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Iterator["Synthesis"]:
    from tests.synthesis import synthesize

    result = synthesize(tmp_path_factory.mktemp("cdktf.out"))
    # Two workers: one per core; terraform validate is CPU-bound while it loads the provider schema.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="terraform-validate") as executor:
        result.start_security_scan(executor)
        result.start_validation(executor)
        yield result
        executor.shutdown(wait=False, cancel_futures=True)


# Tests that read the shared synthesis run first, so the background `terraform validate` (and
# other whole-stack scans) overlap with the service tests; the tests that wait on those scans run last.
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> int:
        if item.get_closest_marker("background_scan"):
            return 2
        if "synthesis" in getattr(item, "fixturenames", ()):
            return 0
        return 1

    items.sort(key=order)
