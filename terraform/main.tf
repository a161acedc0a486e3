# The whole pipeline and its monitoring: one customer-managed KMS key that every module
# encrypts with, the buckets, the function, the alarms and their SNS topics, a CloudWatch
# dashboard and, optionally, the instance that runs the exporter and Prometheus.

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  tags        = merge(var.tags, { Project = var.project, Environment = var.environment })

  source_bucket_name      = coalesce(var.source_bucket_name, "${local.name_prefix}-source-${local.account_id}")
  destination_bucket_name = coalesce(var.destination_bucket_name, "${local.name_prefix}-destination-${local.account_id}")
}

# One key for the buckets, the function's environment, logs and queues, and the SNS topics. Its
# policy lets the services that encrypt or deliver on the stack's behalf use it, each limited to
# this account: CloudWatch Logs (log groups), CloudWatch (alarms publishing to an encrypted topic:
# the AWS-managed SNS key would silently drop them) and S3 (notifications into an encrypted queue).
resource "aws_kms_key" "this" {
  description             = "${local.name_prefix}: buckets, function, logs, queues and topics"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  # A key policy's "*" resource means this key; the account root statement is what lets IAM
  # policies grant use of the key at all.
  #checkov:skip=CKV_AWS_109:Key policy: the account root must be able to manage its own key.
  #checkov:skip=CKV_AWS_111:Key policy: resources are always this key.
  #checkov:skip=CKV_AWS_356:Key policy: "*" is the only resource a key policy can name.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "ServicesDeliverEncrypted"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

module "sns_notifications" {
  source = "./modules/sns_notifications"

  name_prefix         = local.name_prefix
  tags                = local.tags
  kms_key_arn         = aws_kms_key.this.arn
  alert_emails        = var.alert_emails
  notification_emails = var.notification_emails
}

module "s3_buckets" {
  source = "./modules/s3_buckets"

  name_prefix             = local.name_prefix
  tags                    = local.tags
  kms_key_arn             = aws_kms_key.this.arn
  source_bucket_name      = local.source_bucket_name
  destination_bucket_name = local.destination_bucket_name
  source_prefix           = var.source_prefix
  notification_target     = var.sqs_buffered ? "sqs" : "lambda"
  lambda_function_arn     = module.lambda_function.function_arn
  queue_arn               = module.lambda_function.queue_arn
  # S3 refuses a notification its target does not yet accept.
  notification_dependencies = compact([module.lambda_function.permission_id, module.lambda_function.queue_policy_id])
}

module "lambda_function" {
  source = "./modules/lambda_function"

  name_prefix             = local.name_prefix
  tags                    = local.tags
  kms_key_arn             = aws_kms_key.this.arn
  package_path            = "${path.root}/${var.lambda_package_path}"
  memory_size             = var.lambda_memory_size
  timeout                 = var.lambda_timeout
  reserved_concurrency    = var.lambda_reserved_concurrency
  log_retention_days      = var.log_retention_days
  source_bucket_arn       = module.s3_buckets.source_bucket_arn
  source_prefix           = var.source_prefix
  destination_bucket_name = module.s3_buckets.destination_bucket_id
  destination_bucket_arn  = module.s3_buckets.destination_bucket_arn
  destination_prefix      = var.destination_prefix
  environment             = var.environment
  variants                = var.variants
  sqs_buffered            = var.sqs_buffered
}

module "cloudwatch_alarms" {
  source = "./modules/cloudwatch_alarms"

  name_prefix            = local.name_prefix
  tags                   = local.tags
  function_name          = module.lambda_function.function_name
  dead_letter_queue_name = module.lambda_function.dead_letter_queue_name
  queue_name             = module.lambda_function.queue_name
  alarm_topic_arn        = module.sns_notifications.alerts_topic_arn
  ok_topic_arn           = module.sns_notifications.notifications_topic_arn
  environment            = var.environment
}

module "log_alerts" {
  source = "./modules/log_alerts"

  name_prefix     = local.name_prefix
  tags            = local.tags
  log_group_name  = module.lambda_function.log_group_name
  alarm_topic_arn = module.sns_notifications.alerts_topic_arn
}

module "cloudwatch_metrics" {
  source = "./modules/cloudwatch_metrics"

  name_prefix             = local.name_prefix
  tags                    = local.tags
  function_name           = module.lambda_function.function_name
  dead_letter_queue_name  = module.lambda_function.dead_letter_queue_name
  queue_name              = module.lambda_function.queue_name
  source_bucket_name      = module.s3_buckets.source_bucket_id
  destination_bucket_name = module.s3_buckets.destination_bucket_id
  environment             = var.environment
}

module "observability_ec2" {
  source = "./modules/observability_ec2"
  count  = var.observability_enabled ? 1 : 0

  name_prefix             = local.name_prefix
  tags                    = local.tags
  kms_key_arn             = aws_kms_key.this.arn
  vpc_id                  = var.observability_vpc_id
  subnet_id               = var.observability_subnet_id
  allowed_cidrs           = var.observability_allowed_cidrs
  exporter_package_url    = var.exporter_package_url
  exporter_package_sha256 = var.exporter_package_sha256
  environment             = var.environment
  function_name           = module.lambda_function.function_name
  dead_letter_queue_name  = module.lambda_function.dead_letter_queue_name
  queue_name              = module.lambda_function.queue_name
}
