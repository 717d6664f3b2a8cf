"""The layer stacks of an environment, and how they are wired together."""

import components  # noqa: F401  (loads the provider bindings lazily before any stack imports them)
