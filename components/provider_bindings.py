"""Load the AWS provider bindings without importing all of their 2,100 modules.

The package's `__init__` imports every resource module of the provider (about 6 of the ~9 s a
synth spends importing), although a stack uses a hundred of them. Registering a bare package
object lets Python import just the submodules the constructs name; its `_jsii` module, which
loads the provider's jsii assembly into the Node.js runtime, is imported by the first of them
as usual. The synthesized output is identical (benchmarks/bench_synth.py compares both ways).
"""

from __future__ import annotations

import importlib.util
import sys
import types

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


def import_provider_lazily() -> None:
    """Make `import cdktf_cdktf_provider_aws.<resource>` load only that resource's module."""
    if PROVIDER_PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PROVIDER_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{PROVIDER_PACKAGE} is not installed; run scripts/setup.sh")
    package = types.ModuleType(PROVIDER_PACKAGE)
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__package__ = PROVIDER_PACKAGE
    package.__spec__ = spec
    sys.modules[PROVIDER_PACKAGE] = package
