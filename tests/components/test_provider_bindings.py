"""The synth process imports only the provider modules the stacks use."""

from __future__ import annotations

import sys

from components.provider_bindings import PROVIDER_PACKAGE


def test_only_the_resource_modules_the_stacks_use_are_loaded(synthesis):
    loaded = {name for name in sys.modules if name.startswith(f"{PROVIDER_PACKAGE}.")}
    assert f"{PROVIDER_PACKAGE}.vpc" in loaded and f"{PROVIDER_PACKAGE}._jsii" in loaded
    # The package holds ~2,100 resource modules; an eager import would load every one.
    assert f"{PROVIDER_PACKAGE}.workspaces_workspace" not in loaded
    assert len(loaded) < 300, len(loaded)
