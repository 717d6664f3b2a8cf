"""The REST API's definition: two routes, every method behind an API key.

- `POST /transactions` → the transaction processor Lambda (AWS_PROXY), its body validated at the
  gateway against the same JSON schema the services validate with, so a malformed transaction
  is answered 400 before it costs an invocation.
- `ANY /api/{proxy+}` → fraud-api through the VPC link (HTTP_PROXY over HTTPS to the internal ALB).

REST, not HTTP API: usage plans, API keys and WAF exist only for REST APIs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration, ApiGatewayIntegrationTlsConfig
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from components.naming import ResourceNamer

JSON = "application/json"
# API Gateway model names are alphanumeric only, so this one cannot carry the environment
# suffix; it is scoped to the REST API, whose name does.
TRANSACTION_MODEL_NAME = "Transaction"
# The ALB answers 29 s before API Gateway's own REST integration limit would cut the request.
INTEGRATION_TIMEOUT_MILLISECONDS = 29_000


@dataclass(frozen=True)
class ApiRoute:
    """One method of the API: its resource path as API Gateway writes it and its HTTP method."""

    resource_path: str
    http_method: str

    @property
    def name(self) -> str:
        """The route's first path segment: `transactions`, `api`."""
        return self.resource_path.strip("/").split("/")[0]

    @property
    def method_path(self) -> str:
        """How a usage plan's per-method throttle names it: `/transactions/POST`."""
        return f"{self.resource_path}/{self.http_method}"


TRANSACTIONS = ApiRoute("/transactions", "POST")
FRAUD_API = ApiRoute("/api/{proxy+}", "ANY")


@dataclass(frozen=True)
class TransactionsRoute:
    """`POST /transactions`: the Lambda that scores a transaction and the schema its body must meet."""

    function_name: str
    invoke_arn: str
    # A draft-04 JSON schema file, read at synth time: the gateway's model IS this file.
    schema_file: Path


@dataclass(frozen=True)
class FraudApiRoute:
    """`ANY /api/{proxy+}`: fraud-api behind the internal ALB, reached through `vpc_link_id`.

    `host` is the name in the ALB's certificate: API Gateway sends it as Host and SNI and checks
    the certificate against it, while the VPC link decides where the connection actually goes.
    """

    host: str
    vpc_link_id: str


class FraudRestApi(Construct):
    """`stage_name` is the one stage allowed to invoke the transaction processor (with
    `account_id`, the permission's source account)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        transactions: TransactionsRoute,
        fraud_api: FraudApiRoute,
        stage_name: str,
        account_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=naming.name("api"),
            description="Fraud-detection platform: transaction ingestion and the fraud-api, behind API keys and WAF",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            api_key_source="HEADER",
            # A replacement API must exist before the stage, keys and WAF let go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # Every resource, method, integration, model and validator: what a
        # deployment snapshots, so the stage's deployment is re-created when any of them changes.
        self.definition: list[TerraformResource] = []
        self.methods: list[ApiGatewayMethod] = []
        self._transactions(naming, transactions, stage_name, account_id)
        self._fraud_api(naming, fraud_api)

    def _transactions(self, naming: ResourceNamer, route: TransactionsRoute, stage_name: str, account_id: str) -> None:
        schema = route.schema_file.read_text()
        json.loads(schema)  # a broken schema file stops synth here, not at deploy time
        self.transaction_model = ApiGatewayModel(
            self,
            "transaction-model",
            rest_api_id=self.api.id,
            name=TRANSACTION_MODEL_NAME,
            description=f"Body of POST /transactions ({route.schema_file.name}, shared with the services)",
            content_type=JSON,
            schema=schema,
        )
        self.body_validator = self._validator("body-validator", naming.name("validate-body"), body=True)
        resource = ApiGatewayResource(
            self, "transactions", rest_api_id=self.api.id, parent_id=self.api.root_resource_id, path_part=TRANSACTIONS.resource_path.lstrip("/")
        )
        method = self._keyed_method(
            "transactions-post", resource, TRANSACTIONS.http_method, self.body_validator, request_models={JSON: self.transaction_model.name}
        )
        integration = self._integration(
            "transactions-integration",
            resource,
            method,
            type="AWS_PROXY",
            # Lambda is always invoked with POST, whatever the method.
            integration_http_method="POST",
            uri=route.invoke_arn,
        )
        # Only this API's POST /transactions on the environment's stage may invoke the function
        # (the console's test invoke, stage `test-invoke-stage`, is refused too).
        self.invoke_permission = LambdaPermission(
            self,
            "transactions-invoke",
            statement_id="AllowApiGatewayPostTransactions",
            action="lambda:InvokeFunction",
            function_name=route.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/{stage_name}/{TRANSACTIONS.http_method}{TRANSACTIONS.resource_path}",
            source_account=account_id,
        )
        self.methods.append(method)
        self.definition += [self.transaction_model, self.body_validator, resource, method, integration]

    def _fraud_api(self, naming: ResourceNamer, route: FraudApiRoute) -> None:
        # fraud-api validates its own bodies (its OpenAPI document); the gateway checks the path.
        self.parameters_validator = self._validator("parameters-validator", naming.name("validate-parameters"), body=False)
        api_part, proxy_part = FRAUD_API.resource_path.lstrip("/").split("/")
        api_resource = ApiGatewayResource(
            self, "api-root", rest_api_id=self.api.id, parent_id=self.api.root_resource_id, path_part=api_part
        )
        proxy_resource = ApiGatewayResource(
            self, "api-proxy", rest_api_id=self.api.id, parent_id=api_resource.id, path_part=proxy_part
        )
        method = self._keyed_method(
            "api-proxy-any",
            proxy_resource,
            FRAUD_API.http_method,
            self.parameters_validator,
            request_parameters={"method.request.path.proxy": True},
        )
        integration = self._integration(
            "api-proxy-integration",
            proxy_resource,
            method,
            type="HTTP_PROXY",
            integration_http_method="ANY",
            uri=f"https://{route.host}/api/{{proxy}}",
            connection_type="VPC_LINK",
            connection_id=route.vpc_link_id,
            request_parameters={"integration.request.path.proxy": "method.request.path.proxy"},
            # The ALB's certificate is public ACM for `host`: verify it, never skip.
            tls_config=ApiGatewayIntegrationTlsConfig(insecure_skip_verification=False),
        )
        self.methods.append(method)
        self.definition += [self.parameters_validator, api_resource, proxy_resource, method, integration]

    def _validator(self, construct_id: str, name: str, *, body: bool) -> ApiGatewayRequestValidator:
        """Validates either the body (against the method's model) or the parameters, not both."""
        return ApiGatewayRequestValidator(
            self, construct_id, rest_api_id=self.api.id, name=name, validate_request_body=body, validate_request_parameters=not body
        )

    def _integration(self, construct_id: str, resource: ApiGatewayResource, method: ApiGatewayMethod, **backend: Any) -> ApiGatewayIntegration:
        """What `method` on `resource` calls (`backend`: its type, method, URI...), within the gateway's timeout."""
        return ApiGatewayIntegration(
            self, construct_id, rest_api_id=self.api.id, resource_id=resource.id, http_method=method.http_method,
            timeout_milliseconds=INTEGRATION_TIMEOUT_MILLISECONDS, **backend,
        )

    def _keyed_method(
        self,
        construct_id: str,
        resource: ApiGatewayResource,
        http_method: str,
        validator: ApiGatewayRequestValidator,
        *,
        request_models: dict[str, str] | None = None,
        request_parameters: dict[str, bool] | None = None,
    ) -> ApiGatewayMethod:
        # Callers are identified by API key (usage plans); no method has another authorizer.
        return ApiGatewayMethod(
            self,
            construct_id,
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method=http_method,
            authorization="NONE",
            api_key_required=True,
            request_validator_id=validator.id,
            request_models=request_models,
            request_parameters=request_parameters,
        )
