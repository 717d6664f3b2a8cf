"""The edge layer: the only way in from the internet, through API keys and WAF.

API Gateway (REST) is the single public entry. `POST /transactions` invokes the transaction
processor; `/api/*` reaches fraud-api through a VPC link to an internal NLB whose one target is
the internal ALB, so nothing else, on the internet or in the VPC, reaches the ALB or the tasks
(docs/edge.md). Each kind of consumer's key opens only its own route.
Reads only network, data and compute: edge can be destroyed and re-created while they stay.
"""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from components.edge.custom_domain import ApiCustomDomain
from components.edge.private_integration import AlbTarget, PrivateIntegration
from components.edge.rest_api import FraudApiRoute, FraudRestApi, TransactionsRoute
from components.edge.stage import ApiStage
from components.edge.usage_plans import ConsumerPlans
from components.edge.web_acl import KeyedRoute, WebAcl
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import EdgeContract, EdgeUpstream
from stacks.layers import Layer

# The schema the services validate transactions with: the gateway's model is this very file.
TRANSACTION_SCHEMA_FILE = Path(__file__).resolve().parents[1] / "services" / "fraud_scoring" / "transaction.schema.json"
# The ALB routes this path to fraud-api, so the NLB's health check covers the whole private path.
ALB_HEALTH_CHECK_PATH = "/health"


class EdgeStack(LayerStack):
    def __init__(self, scope: Construct, *, environment: EnvironmentConfig, target: DeploymentTarget, upstream: EdgeUpstream) -> None:
        super().__init__(scope, layer=Layer.EDGE, environment=environment, target=target)
        settings = environment.edge
        context = self.context
        network, data, compute = upstream.network, upstream.data, upstream.compute
        # The environment's name: one stage per environment, and names carry the suffix.
        stage_name = environment.suffix

        private_path = PrivateIntegration(
            self,
            "private-integration",
            naming=self.naming,
            vpc_id=network.vpc_id,
            subnet_ids=network.application_subnet_ids,
            security_group_id=network.security_group_ids.vpc_link_load_balancer,
            target=AlbTarget(load_balancer_arn=compute.load_balancer_arn, health_check_path=ALB_HEALTH_CHECK_PATH),
        )
        api = FraudRestApi(
            self,
            "rest-api",
            naming=self.naming,
            transactions=TransactionsRoute(
                function_name=compute.transaction_processor_function_name,
                invoke_arn=compute.transaction_processor_invoke_arn,
                schema_file=TRANSACTION_SCHEMA_FILE,
            ),
            fraud_api=FraudApiRoute(host=compute.api_domain_name, vpc_link_id=private_path.vpc_link.id),
            stage_name=stage_name,
            account_id=context.account_id,
        )
        stage = ApiStage(
            self,
            "stage",
            rest_api_id=api.api.id,
            stage_name=stage_name,
            definition=api.definition,
            settings=settings,
            access_log_group_name=self.naming.path("api-gateway", "access"),
            logs_key_arn=data.logs_key_arn,
        )
        plans = ConsumerPlans(
            # "Default" is the one construct id cdktf leaves out of Terraform addresses: the plans
            # and keys keep the addresses they had before this construct grouped them.
            self,
            "Default",
            naming=self.naming,
            settings=settings,
            rest_api_id=api.api.id,
            stage_name=stage.stage.stage_name,
        )
        waf = WebAcl(
            self,
            "web-acl",
            naming=self.naming,
            context=context,
            settings=settings,
            stage_name=stage_name,
            keyed_routes=[
                KeyedRoute(route=route, limits=each.plan.limits)
                for each in plans.by_consumer.values()
                for route in each.plan.routes
            ],
            logs_key_arn=data.logs_key_arn,
            protected_resource_arns={"api-stage": stage.stage.arn},
        )
        if settings.custom_domain_enabled:
            domain = ApiCustomDomain(
                self,
                "custom-domain",
                domain_name=compute.api_domain_name,
                certificate_arn=compute.certificate_arn,
                hosted_zone_name=settings.hosted_zone_name,
                rest_api_id=api.api.id,
                stage_name=stage.stage.stage_name,
            )
            self.output("api_custom_domain_url", domain.url, "The API under its own name")

        self.contract = EdgeContract(
            rest_api_name=api.api.name,
            stage_name=stage.stage.stage_name,
            web_acl_metric_name=waf.metric_name,
            web_acl_rule_metric_names=waf.rule_metric_names,
            vpc_link_load_balancer_arn_suffix=private_path.load_balancer.arn_suffix,
            vpc_link_target_group_arn_suffix=private_path.target_group.arn_suffix,
        )

        # Ids only: a key's value is read with `aws apigateway get-api-key --include-value`.
        self.output("api_endpoint_url", stage.stage.invoke_url, "Stage invoke URL (send x-api-key)")
        self.output("usage_plan_ids", {key: each.usage_plan.id for key, each in plans.by_consumer.items()}, "Usage plan per consumer kind")
        self.output("api_key_ids", {key: each.api_key.id for key, each in plans.by_consumer.items()}, "API key ids (not values)")
