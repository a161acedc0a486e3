# The image-processing function and what it needs to run safely: its log group, an
# execution role limited to the two bucket prefixes, the key, its logs, X-Ray and its
# queues, an encrypted dead-letter queue for events that keep failing, and either the
# permission that lets the source bucket invoke it directly or (sqs_buffered) a queue
# that the bucket notifies and the function polls. The bucket notification itself is
# made by the s3_buckets module.

data "aws_caller_identity" "current" {}

locals {
  # `image-processor-dev-processor` for the default project and environment: the name the
  # exporter's example config and users' queries (dimension_FunctionName) expect.
  function_name = "${var.name_prefix}-processor"
  account_id    = data.aws_caller_identity.current.account_id

  # The processor's configuration contract: every value is a string.
  environment_variables = {
    # arn:aws:s3:::<bucket>; the processor refuses to start if the destination could
    # trigger it again, and needs the source bucket to tell.
    SOURCE_BUCKET      = element(split(":", var.source_bucket_arn), 5)
    DESTINATION_BUCKET = var.destination_bucket_name
    DESTINATION_PREFIX = var.destination_prefix
    VARIANTS           = jsonencode(var.variants)
    MAX_INPUT_BYTES    = tostring(var.max_input_bytes)
    MAX_MEGAPIXELS     = tostring(var.max_megapixels)
    CACHE_CONTROL      = var.cache_control
    ENVIRONMENT        = var.environment
    SOURCE_PREFIX      = var.source_prefix
  }
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls S3, KMS, SQS, X-Ray and CloudWatch public endpoints and reaches no private resource; a VPC would add NAT or endpoint cost and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_272:The package is built from this repository by cargo-lambda and deployed by Terraform from the same checkout; there is no AWS Signer profile in this project to sign it with.
  function_name                  = local.function_name
  description                    = "Resizes and converts images uploaded to the source bucket into the destination bucket."
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment_variables
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    application_log_level = var.log_level
    system_log_level      = "INFO"
    log_group             = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  # The role must be able to write logs and reach the dead-letter queue before the
  # first invocation, and the log group must exist so Lambda does not create an
  # unencrypted one without retention.
  depends_on = [
    aws_iam_role_policy.this,
    aws_cloudwatch_log_group.this,
  ]

  lifecycle {
    precondition {
      condition     = var.source_bucket_arn != var.destination_bucket_arn || !(startswith(var.destination_prefix, var.source_prefix) || startswith(var.source_prefix, var.destination_prefix))
      error_message = "When source and destination are the same bucket, source_prefix and destination_prefix must not overlap, or every output would trigger the function again."
    }

    precondition {
      condition     = endswith(var.destination_bucket_arn, ":${var.destination_bucket_name}")
      error_message = "destination_bucket_arn and destination_bucket_name must name the same bucket."
    }
  }
}

# Stop the function if Lambda detects it in a loop (for example outputs written where
# they trigger it again). Terminate is the service default; it is set here so it stays so.
resource "aws_lambda_function_recursion_config" "this" {
  function_name  = aws_lambda_function.this.function_name
  recursive_loop = "Terminate"
}

# Retries of asynchronous (direct S3) invocations. The failed event then goes to the function's
# dead_letter_config queue; no on-failure destination is set as well, or each failure would
# arrive in that queue twice in two shapes.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 21600
}

################################################################################
# Logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

################################################################################
# Execution role
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-lambda"
  description        = "Execution role of the ${local.function_name} image-processing function."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid     = "ReadSourceImages"
    effect  = "Allow"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "${var.source_bucket_arn}/${var.source_prefix}*",
    ]
  }

  # Without it a missing key answers 403 instead of 404, and the processor could not tell a
  # stale event (the object is gone) from a permission problem. Limited to the source prefix.
  statement {
    sid       = "ListSourcePrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.source_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.source_prefix}*"]
    }
  }

  statement {
    sid     = "WriteProcessedImages"
    effect  = "Allow"
    actions = ["s3:PutObject"]
    resources = [
      "${var.destination_bucket_arn}/${var.destination_prefix}*",
    ]
  }

  # Objects in both buckets and messages in both queues are encrypted with this key.
  statement {
    sid       = "UseTheKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid     = "WriteOwnLogs"
    effect  = "Allow"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.this.arn}:*",
    ]
  }

  # X-Ray has no resource-level permissions for these two actions; "*" is the only
  # resource they accept.
  statement {
    sid       = "SendTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "SendFailedEventsToDeadLetterQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = aws_sqs_queue.this[*].arn

    content {
      sid       = "ConsumeEventQueue"
      effect    = "Allow"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name_prefix}-lambda"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

################################################################################
# Dead-letter queue
################################################################################

# Receives events that failed every attempt: from direct S3 invocations (through
# dead_letter_config) and, in buffered mode, messages that failed maxReceiveCount times.
resource "aws_sqs_queue" "dlq" {
  name                              = "${var.name_prefix}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

################################################################################
# Direct mode: S3 invokes the function
################################################################################

resource "aws_lambda_permission" "this" {
  count = var.sqs_buffered ? 0 : 1

  statement_id   = "AllowInvokeFromSourceBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.source_bucket_arn
  source_account = local.account_id
}

################################################################################
# Buffered mode: S3 -> SQS -> function
################################################################################

resource "aws_sqs_queue" "this" {
  count = var.sqs_buffered ? 1 : 0

  name = "${var.name_prefix}-events"
  # AWS asks for at least six times the function timeout, so a batch that is still
  # being retried inside Lambda is not handed to a second poller.
  visibility_timeout_seconds        = 6 * var.timeout
  max_message_size                  = 262144
  message_retention_seconds         = 345600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 5
  })

  tags = var.tags
}

data "aws_iam_policy_document" "queue" {
  count = var.sqs_buffered ? 1 : 0

  statement {
    sid       = "AllowSourceBucketNotifications"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[0].arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.source_bucket_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  count = var.sqs_buffered ? 1 : 0

  queue_url = aws_sqs_queue.this[0].id
  policy    = data.aws_iam_policy_document.queue[0].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.sqs_buffered ? 1 : 0

  event_source_arn        = aws_sqs_queue.this[0].arn
  function_name           = aws_lambda_function.this.arn
  batch_size              = var.batch_size
  function_response_types = ["ReportBatchItemFailures"]
  # SQS mappings with a batch size above 10 must wait at least one second to fill it.
  maximum_batching_window_in_seconds = var.batch_size > 10 ? 1 : 0

  # Keep the pollers below the reserved concurrency, so messages are not throttled
  # and pushed towards the dead-letter queue (the setting accepts 2 to 1000).
  dynamic "scaling_config" {
    for_each = var.reserved_concurrency >= 2 ? [min(var.reserved_concurrency, 1000)] : []

    content {
      maximum_concurrency = scaling_config.value
    }
  }

  tags = var.tags

  # Lambda checks at creation that the role can read the queue.
  depends_on = [aws_iam_role_policy.this]
}
