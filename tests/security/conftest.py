from __future__ import annotations

import pytest

from tests.security.synthesized import Platform


@pytest.fixture(scope="session")
def platform(synthesis) -> Platform:
    """Every stack of the session's one synthesis, parsed once for all the security tests."""
    return Platform(synthesis.outdir / "stacks")
