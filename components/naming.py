"""One naming rule for every named AWS resource of the platform.

Names follow the `{resource-type}-{environment_suffix}` pattern (docs/requirements.md R9.4), prefixed with the
product so environments and other products can share an account without clashes. Names that
would break a service's length limit are shortened with a stable hash, so they stay unique.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The tightest limits the platform meets; pass one as `max_length` where it applies.
LOAD_BALANCER_NAME_LIMIT = 32  # ALB, NLB and target group names
IAM_ROLE_NAME_LIMIT = 64
S3_BUCKET_NAME_LIMIT = 63
LAMBDA_FUNCTION_NAME_LIMIT = 64
DEFAULT_NAME_LIMIT = 63

_ALLOWED = re.compile(r"[^a-z0-9-]")


@dataclass(frozen=True)
class ResourceNamer:
    """Builds `<prefix>-<parts>-<suffix>` names for one environment."""

    prefix: str
    suffix: str
    # Root of hierarchical names (SSM parameters, log groups): `/fraud-detection/<suffix>/...`.
    path_root: str

    def name(self, *parts: str, max_length: int = DEFAULT_NAME_LIMIT) -> str:
        """A lowercase, hyphenated name that ends with the environment suffix."""
        body = "-".join(_slug(part) for part in (self.prefix, *parts))
        full = f"{body}-{self.suffix}"
        if len(full) <= max_length:
            return full
        # Keep the suffix (it is what makes names unique across environments) and a hash of
        # the full name (it keeps shortened names distinct from each other).
        digest = hashlib.sha256(full.encode()).hexdigest()[:6]
        room = max_length - len(self.suffix) - len(digest) - 2
        if room < 1:
            raise ValueError(f"cannot fit a name for {parts} with suffix '{self.suffix}' into {max_length} characters")
        return f"{body[:room].rstrip('-')}-{digest}-{self.suffix}"

    def path(self, *parts: str) -> str:
        """A slash-separated hierarchy such as SSM parameter names: `/<path_root>/<suffix>/<parts>`."""
        return "/" + "/".join((self.path_root, self.suffix, *parts))


def _slug(text: str) -> str:
    slug = _ALLOWED.sub("-", text.lower()).strip("-")
    if not slug:
        raise ValueError(f"'{text}' has no characters usable in a resource name")
    return re.sub(r"-{2,}", "-", slug)
