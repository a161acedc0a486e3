data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id

  # Every alarm in this account and region; used to scope what CloudWatch may publish.
  alarm_arn_pattern = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.region}:${local.account_id}:alarm:*"

  topic_arns = {
    alerts        = aws_sns_topic.alerts.arn
    notifications = aws_sns_topic.notifications.arn
  }

  # One entry per (topic, address) pair, keyed "topic/address".
  email_subscriptions = merge(
    { for email in var.alert_emails : "alerts/${email}" => { topic = "alerts", email = email } },
    { for email in var.notification_emails : "notifications/${email}" => { topic = "notifications", email = email } },
  )
}

# Alarm notifications (alarm_actions of the CloudWatch alarms).
resource "aws_sns_topic" "alerts" {
  name = "${var.name_prefix}-alerts"

  # A customer-managed key: CloudWatch cannot use the AWS-managed alias/aws/sns key, and alarm
  # notifications to a topic encrypted with it are dropped without an error.
  kms_master_key_id = var.kms_key_arn
  signature_version = 2

  tags = var.tags
}

# Informational messages (e.g. alarm OK transitions).
resource "aws_sns_topic" "notifications" {
  name = "${var.name_prefix}-notifications"

  kms_master_key_id = var.kms_key_arn
  signature_version = 2

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  for_each = local.topic_arns

  statement {
    sid       = "AllowCloudWatchAlarmsOfThisAccount"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [each.value]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arn_pattern]
    }
  }

  statement {
    sid       = "DenyPublishWithoutTls"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [each.value]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  for_each = local.topic_arns

  arn    = each.value
  policy = data.aws_iam_policy_document.topic[each.key].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.email_subscriptions

  topic_arn = local.topic_arns[each.value.topic]
  protocol  = "email"
  endpoint  = each.value.email
}
