"""The compute layer's units: the fraud-api service on ECS behind an internal ALB with
CodeDeploy blue/green, its autoscaling, the alerts fan-out and the pipeline's schedule."""
