"""Deploy, promote and tear down the platform's environments stack by stack (see docs/lifecycle.md)."""
