"""VPC link → internal NLB (TCP 443) → alb target group → the ALB."""

from __future__ import annotations

from components.edge.private_integration import AlbTarget, PrivateIntegration


def test_chain_from_vpc_link_to_the_alb(bare_stack, naming):
    stack, synth = bare_stack
    PrivateIntegration(
        stack,
        "private",
        naming=naming,
        vpc_id="vpc-1",
        subnet_ids=("subnet-a", "subnet-b", "subnet-c"),
        security_group_id="sg-nlb",
        target=AlbTarget(load_balancer_arn="arn:alb", health_check_path="/health"),
    )
    resources = synth()["resource"]
    (nlb_id,) = resources["aws_lb"]
    nlb = resources["aws_lb"][nlb_id]
    assert (nlb["load_balancer_type"], nlb["internal"], nlb["enable_cross_zone_load_balancing"]) == ("network", True, True)
    assert nlb["subnets"] == ["subnet-a", "subnet-b", "subnet-c"]
    # Its group admits nothing; PrivateLink (the VPC link) is not judged by inbound rules.
    assert (nlb["security_groups"], nlb["enforce_security_group_inbound_rules_on_private_link_traffic"]) == (["sg-nlb"], "off")
    assert next(iter(resources["aws_api_gateway_vpc_link"].values()))["target_arns"] == [f"${{aws_lb.{nlb_id}.arn}}"]
    (group_id,) = resources["aws_lb_target_group"]
    group = resources["aws_lb_target_group"][group_id]
    assert (group["target_type"], group["protocol"], group["port"], group["health_check"]["protocol"]) == ("alb", "TCP", 443, "HTTPS")
    attachment = next(iter(resources["aws_lb_target_group_attachment"].values()))
    assert attachment["target_id"] == "arn:alb"
    listener = next(iter(resources["aws_lb_listener"].values()))
    assert (listener["protocol"], listener["port"]) == ("TCP", 443)
    assert listener["default_action"][0]["target_group_arn"] == f"${{aws_lb_target_group.{group_id}.arn}}"
