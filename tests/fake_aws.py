"""Fake AWS credentials and region for tests that talk to moto in-process (no side effects:
the modules that need them in the environment put them there)."""

FAKE_AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
