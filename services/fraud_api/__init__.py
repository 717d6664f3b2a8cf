"""fraud-api: the containerised real-time fraud-scoring HTTP service (ECS Fargate behind the ALB).

Kept import-light on purpose: `python -m fraud_api.healthcheck` imports this package on every
container health probe.
"""
