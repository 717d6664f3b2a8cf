"""An ACM certificate for the API's name, validated through the environment's Route 53 zone."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from components.compliance import skip_check

# Short, so a re-issued certificate's new record is seen quickly.
VALIDATION_RECORD_TTL_SECONDS = 60


class DnsValidatedCertificate(Construct):
    """`domain_name` plus `*.<domain_name>`: the wildcard lets the internal ALB and any later
    per-purpose names (for example the edge's private integration host) share one certificate.

    `certificate_arn` comes from the validation resource, so anything using it waits until the
    certificate is issued (a listener cannot use a pending certificate).
    """

    def __init__(self, scope: Construct, construct_id: str, *, hosted_zone_name: str, domain_name: str) -> None:
        super().__init__(scope, construct_id)
        zone = DataAwsRoute53Zone(self, "zone", name=hosted_zone_name, private_zone=False)
        self.domain_name = domain_name
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain_name,
            subject_alternative_names=[f"*.{domain_name}"],
            validation_method="DNS",
            key_algorithm="RSA_2048",
            # Certificate transparency logging stays on: browsers and clients reject certificates
            # missing from CT logs.
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            # A replacement (new name) must be issued before the listener lets the old one go.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        skip_check(
            self.certificate,
            "CKV2_AWS_71",
            "the wildcard is one level under the API's own name (not the zone): it covers the API's internal "
            "host names, such as the edge's private-integration host, behind the same internal ALB",
        )
        # The name and its wildcard share one validation record. Not a for_each over the
        # options: their keys are unknown until the certificate exists, so a first plan fails
        # ("Invalid for_each argument"); the record's values may be unknown, its count may not.
        first = f"tolist({self.certificate.fqn}.domain_validation_options)[0]"
        record = Route53Record(
            self,
            "validation-record",
            zone_id=zone.zone_id,
            name=f"${{{first}.resource_record_name}}",
            type=f"${{{first}.resource_record_type}}",
            records=[f"${{{first}.resource_record_value}}"],
            ttl=VALIDATION_RECORD_TTL_SECONDS,
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[record.fqdn],
        )
        self.certificate_arn = self.validation.certificate_arn
