data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

# Latest AMI from the public SSM parameter (Debian 12 arm64 by default). Public AMI
# parameters are plain strings, so insecure_value is the readable value.
data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

locals {
  name = "${var.name_prefix}-observability"

  # The four services the security group opens to allowed_cidrs.
  ingress_ports = {
    prometheus   = { port = 9090, description = "Prometheus web UI and API" }
    alertmanager = { port = 9093, description = "Alertmanager web UI and API" }
    grafana      = { port = 3000, description = "Grafana web UI" }
    exporter     = { port = 5000, description = "CloudWatch exporter metrics endpoint" }
  }

  ingress_rules = {
    for pair in setproduct(keys(local.ingress_ports), var.allowed_cidrs) :
    "${pair[0]}-${pair[1]}" => {
      port        = local.ingress_ports[pair[0]].port
      cidr        = pair[1]
      description = "${local.ingress_ports[pair[0]].description} from ${pair[1]}"
    }
  }

  # Outbound traffic is limited to what the user data and the exporter need: Debian and
  # Grafana package mirrors (HTTP/HTTPS), the exporter download and the AWS APIs (HTTPS).
  # DNS, NTP and instance metadata go to link-local/VPC resolver addresses that security
  # groups do not filter.
  egress_ports = {
    https = { port = 443, description = "HTTPS: AWS APIs, Grafana apt repository, exporter download, Debian mirrors" }
    http  = { port = 80, description = "HTTP: Debian apt mirrors (packages are verified by apt signatures)" }
  }

  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.function_name}"
}

################################################################################
# Security group
################################################################################

resource "aws_security_group" "this" {
  name_prefix = "${local.name}-"
  description = "Observability host: Prometheus, Alertmanager, Grafana and the CloudWatch exporter"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = local.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = local.ingress_rules

  security_group_id = aws_security_group.this.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = can(regex(":", each.value.cidr)) ? null : each.value.cidr
  cidr_ipv6         = can(regex(":", each.value.cidr)) ? each.value.cidr : null

  tags = merge(var.tags, { Name = "${local.name}-${each.key}" })
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = local.egress_ports

  security_group_id = aws_security_group.this.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = "0.0.0.0/0"

  tags = merge(var.tags, { Name = "${local.name}-egress-${each.key}" })
}

################################################################################
# IAM role and instance profile: exactly the exporter's permissions
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "Ec2AssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_356:logs:GetQueryResults and logs:StopQuery take a query id, not a log group; IAM's service reference lists no resource type for it, so "*" is the only resource that matches. Every other "*" here is on actions with no resource-level permissions.
  # CloudWatch metric reads, resource tag lookups and account alias listing have no
  # resource-level permissions in IAM: "*" is the only resource these actions accept.
  statement {
    sid    = "ReadMetricsNoResourceLevelPermissions"
    effect = "Allow"
    actions = [
      "cloudwatch:GetMetricData",
      "cloudwatch:ListMetrics",
      "iam:ListAccountAliases",
      "tag:GetResources",
    ]
    resources = ["*"]
  }

  # logs:DescribeLogGroups, logs:GetQueryResults and logs:StopQuery (which name a query id,
  # not a log group; the exporter stops an Insights query that overruns its timeout) have no
  # resource-level permissions in IAM either: "*" only.
  statement {
    sid       = "LogsNoResourceLevelPermissions"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups", "logs:GetQueryResults", "logs:StopQuery"]
    resources = ["*"]
  }

  # Log queries are scoped to the function's own log group.
  statement {
    sid    = "QueryFunctionLogGroup"
    effect = "Allow"
    actions = [
      "logs:FilterLogEvents",
      "logs:StartQuery",
    ]
    resources = [
      local.log_group_arn,
      "${local.log_group_arn}:*",
    ]
  }

  # sts:GetCallerIdentity (the exporter's account_id label) needs no permission.
}

resource "aws_iam_role" "this" {
  name               = local.name
  description        = "Observability host: the CloudWatch exporter's read-only permissions"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${local.name}-exporter"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_instance_profile" "this" {
  name = local.name
  role = aws_iam_role.this.name

  tags = var.tags
}

################################################################################
# Instance
################################################################################

resource "aws_instance" "this" {
  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region                  = data.aws_region.current.region
    function_name           = var.function_name
    environment             = var.environment
    dead_letter_queue_name  = var.dead_letter_queue_name
    queue_name              = var.queue_name == null ? "" : var.queue_name
    exporter_package_url    = var.exporter_package_url
    exporter_package_sha256 = var.exporter_package_sha256 == null ? "" : var.exporter_package_sha256
    scrape_interval_seconds = var.scrape_interval_seconds
  })
  # The user data runs only at first boot, so a changed configuration needs a new instance.
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    delete_on_termination = true

    tags = merge(var.tags, { Name = "${local.name}-root" })
  }

  tags = merge(var.tags, { Name = local.name })

  lifecycle {
    # A new Debian release in the SSM parameter should not replace a running monitoring
    # host (and drop its Prometheus data) on the next apply; replace it deliberately.
    ignore_changes = [ami]
  }
}
