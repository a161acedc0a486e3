# The three buckets of the image pipeline: the source bucket (uploads arrive here and
# trigger processing), the destination bucket (processed images; it never notifies, so
# it can never trigger the function) and the bucket that receives the server access logs
# of the other two. The Lambda permission or queue policy that lets S3 deliver events is
# made by the lambda_function module and passed in through notification_dependencies.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id

  # The account id keeps the name unique across accounts that share a name_prefix;
  # at most 40 + 9 + 12 = 61 characters, inside the 63 that S3 allows.
  log_bucket_name = "${var.name_prefix}-s3-logs-${local.account_id}"

  # Buckets that hold image data: encrypted with the customer-managed key and logged.
  data_buckets = {
    source      = aws_s3_bucket.source
    destination = aws_s3_bucket.destination
  }

  # Every bucket: the settings they share are applied once over this map.
  all_buckets = merge(local.data_buckets, { logs = aws_s3_bucket.logs })

  # S3 filters on an empty prefix are written as "no prefix".
  notification_prefix = var.source_prefix == "" ? null : var.source_prefix
}

################################################################################
# Buckets
################################################################################

resource "aws_s3_bucket" "source" {
  #checkov:skip=CKV_AWS_144:The pipeline runs in one region; versioning with noncurrent-version retention covers overwrites and deletes, and a replica would need a bucket and key in a second region that this project does not run.
  bucket        = var.source_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = var.source_bucket_name != var.destination_bucket_name
      error_message = "source_bucket_name and destination_bucket_name must differ: writing results into the bucket that triggers the function invites a processing loop."
    }
  }
}

resource "aws_s3_bucket" "destination" {
  #checkov:skip=CKV_AWS_144:Processed images are derived data that can be regenerated from the source bucket, so a second-region replica protects nothing unique.
  #checkov:skip=CKV2_AWS_62:The destination bucket must never send event notifications; an event from it could trigger the processor on its own output.
  bucket        = var.destination_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:Access logs are operational records for this region's buckets; replicating them to another region is not worth the cost.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events from the access-log bucket; S3 writes log objects every few minutes and notifications would only be noise.
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it into itself would write a log record for every log delivery.
  #checkov:skip=CKV_AWS_145:S3 server access log delivery only writes to SSE-S3 (AES256) targets unless the key policy trusts logging.s3.amazonaws.com, which the shared key does not; the logs hold request metadata, not images.
  bucket        = local.log_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

################################################################################
# Settings shared by every bucket
################################################################################

# Written out per bucket rather than with for_each over the buckets: checkov links a bucket to
# its settings only through direct references, and with for_each it reports every bucket of a
# module called from the root as lacking them.
resource "aws_s3_bucket_public_access_block" "source" {
  bucket                  = aws_s3_bucket.source.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "destination" {
  bucket                  = aws_s3_bucket.destination.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.all_buckets

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "source" {
  bucket = aws_s3_bucket.source.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "destination" {
  bucket = aws_s3_bucket.destination.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    id     = "abort-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Once every older version has expired, a lone delete marker is useless.
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Noncurrent-version rules need versioning to be enabled first.
  depends_on = [aws_s3_bucket_versioning.source]
}

resource "aws_s3_bucket_lifecycle_configuration" "destination" {
  bucket = aws_s3_bucket.destination.id

  rule {
    id     = "abort-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Once every older version has expired, a lone delete marker is useless.
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Noncurrent-version rules need versioning to be enabled first.
  depends_on = [aws_s3_bucket_versioning.destination]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "abort-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Once every older version has expired, a lone delete marker is useless.
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Noncurrent-version rules need versioning to be enabled first.
  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.all_buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

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

  statement {
    sid     = "DenyTlsOlderThan12"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # Only the log bucket: let the S3 logging service write the access logs of this
  # module's two data buckets, each under its own prefix, and nothing else.
  dynamic "statement" {
    for_each = each.key == "logs" ? [each.value.arn] : []

    content {
      sid       = "AllowServerAccessLogDelivery"
      effect    = "Allow"
      actions   = ["s3:PutObject"]
      resources = [for name in keys(local.data_buckets) : "${statement.value}/${name}/*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [for bucket in local.data_buckets : bucket.arn]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.all_buckets

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  # A bucket policy can be refused while the public access block is being applied.
  depends_on = [
    aws_s3_bucket_public_access_block.source,
    aws_s3_bucket_public_access_block.destination,
    aws_s3_bucket_public_access_block.logs,
  ]
}

################################################################################
# Encryption
################################################################################

resource "aws_s3_bucket_server_side_encryption_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "destination" {
  bucket = aws_s3_bucket.destination.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

# Server access log delivery writes with SSE-S3; see the CKV_AWS_145 skip on the bucket.
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

################################################################################
# Server access logging
################################################################################

# The log bucket must accept deliveries before logging is switched on, hence depends_on.
resource "aws_s3_bucket_logging" "source" {
  bucket        = aws_s3_bucket.source.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "source/"
  depends_on    = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_logging" "destination" {
  bucket        = aws_s3_bucket.destination.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "destination/"
  depends_on    = [aws_s3_bucket_policy.this]
}

################################################################################
# Event notification (source bucket only)
################################################################################

resource "terraform_data" "notification_dependencies" {
  input = var.notification_dependencies
}

resource "aws_s3_bucket_notification" "this" {
  bucket = aws_s3_bucket.source.id

  # One rule per suffix: an S3 filter holds one prefix and one suffix.
  dynamic "lambda_function" {
    for_each = var.notification_target == "lambda" ? toset(var.source_suffixes) : toset([])

    content {
      id                  = "process${lambda_function.value}"
      lambda_function_arn = var.lambda_function_arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = local.notification_prefix
      filter_suffix       = lambda_function.value
    }
  }

  dynamic "queue" {
    for_each = var.notification_target == "sqs" ? toset(var.source_suffixes) : toset([])

    content {
      id            = "process${queue.value}"
      queue_arn     = var.queue_arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = local.notification_prefix
      filter_suffix = queue.value
    }
  }

  depends_on = [terraform_data.notification_dependencies]

  lifecycle {
    precondition {
      condition     = var.notification_target != "lambda" || var.lambda_function_arn != null
      error_message = "lambda_function_arn is required when notification_target is \"lambda\"."
    }

    precondition {
      condition     = var.notification_target != "sqs" || var.queue_arn != null
      error_message = "queue_arn is required when notification_target is \"sqs\"."
    }
  }
}
