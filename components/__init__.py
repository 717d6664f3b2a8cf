"""Reusable constructs of the platform, one folder per logical unit."""

from components.provider_bindings import import_provider_lazily

import_provider_lazily()
