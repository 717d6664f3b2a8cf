"""The ECR repository the fraud-api image is built into and every environment pulls from.

Account-level, like the state bucket: an image is built once and promoted by digest from dev to
staging to prod, so the repository outlives every environment (the bootstrap stack owns it).
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

# A pushed image whose tag was never set (a failed or superseded multi-step push) is garbage.
UNTAGGED_IMAGE_DAYS = 7


class ImageRepository(Construct):
    """Tags are immutable (a tag names one image forever, so a promoted tag cannot be swapped
    under a running environment), every push is scanned, the images are encrypted with
    `kms_key_arn`, and only the newest `images_kept` images stay: enough for every environment
    to roll back to any image promoted in that many builds."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, kms_key_arn: str, images_kept: int) -> None:
        super().__init__(scope, construct_id)
        self.repository = EcrRepository(
            self,
            "repository",
            name=name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=kms_key_arn)],
            # Images are rebuilt from git: tearing the account's bootstrap down needs no manual step.
            force_delete=True,
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"untagged images go after {UNTAGGED_IMAGE_DAYS} days",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": UNTAGGED_IMAGE_DAYS,
                            },
                            "action": {"type": "expire"},
                        },
                        {
                            "rulePriority": 2,
                            "description": f"keep the newest {images_kept} images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": images_kept},
                            "action": {"type": "expire"},
                        },
                    ]
                }
            ),
        )
        self.url = self.repository.repository_url
        self.arn = self.repository.arn
