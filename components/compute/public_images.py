"""Public images the platform runs, pulled through the account's ECR pull-through cache.

Prod and staging have no route to the internet (docs/architecture.md, "Egress"), so a task cannot
pull from public.ecr.aws itself. An ECR pull-through cache rule (one per account and region, made
by the bootstrap stack) lets the task pull `<account>.dkr.ecr.<region>.amazonaws.com/ecr-public/...`
through the ECR endpoints; ECR fetches the image from ECR Public on the first pull and keeps it.
Every environment pulls the same way, so dev proves the path prod depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecr_pull_through_cache_rule import EcrPullThroughCacheRule
from constructs import Construct

from components.aws_context import AwsContext

ECR_PUBLIC_REGISTRY = "public.ecr.aws"
# Repositories the cache creates are named `<prefix>/<upstream repository>`.
ECR_PUBLIC_CACHE_PREFIX = "ecr-public"
# What pulling any image from ECR takes (the registry login, GetAuthorizationToken, aside).
IMAGE_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# What pulling through the cache takes beyond an ordinary pull: importing the upstream image
# and, on the account's very first pull, creating the cache repository.
CACHE_PULL_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")


@dataclass(frozen=True)
class PublicImage:
    """An image of ECR Public (`public.ecr.aws/<repository>:<tag>`), pinned by tag."""

    repository: str
    tag: str

    def cached_uri(self, context: AwsContext) -> str:
        return f"{context.account_id}.dkr.ecr.{context.region}.amazonaws.com/{ECR_PUBLIC_CACHE_PREFIX}/{self.repository}:{self.tag}"

    def cached_repository_arn(self, context: AwsContext) -> str:
        return context.arn("ecr", f"repository/{ECR_PUBLIC_CACHE_PREFIX}/{self.repository}")


# Pinned: a sidecar that changes under us is a deployment nobody reviewed.
XRAY_DAEMON = PublicImage(repository="xray/aws-xray-daemon", tag="3.3.12")


class PublicImageCache(Construct):
    """The account's pull-through cache of ECR Public: one rule per account and region, shared
    by every environment, so it belongs to the bootstrap stack (like the state bucket)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # ECR Public needs no credentials; the cache repositories use ECR's default settings.
        self.rule = EcrPullThroughCacheRule(
            self, "ecr-public", ecr_repository_prefix=ECR_PUBLIC_CACHE_PREFIX, upstream_registry_url=ECR_PUBLIC_REGISTRY
        )
