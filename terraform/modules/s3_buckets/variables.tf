variable "name_prefix" {
  type        = string
  description = "Prefix for the names of everything this module creates, for example \"image-processor-dev\". Also names the access-log bucket."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 40 characters of lower-case letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the customer-managed KMS key used as the default encryption of the source and destination buckets."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "source_bucket_name" {
  type        = string
  description = "Name of the bucket that receives the original images. Uploads under source_prefix with one of source_suffixes trigger processing."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit (no dots: they break TLS for virtual-hosted addressing)."
  }
}

variable "destination_bucket_name" {
  type        = string
  description = "Name of the bucket that receives the processed images. It never sends event notifications. Must differ from source_bucket_name."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.destination_bucket_name))
    error_message = "destination_bucket_name must be 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit (no dots: they break TLS for virtual-hosted addressing)."
  }
}

variable "source_prefix" {
  type        = string
  description = "Key prefix that an upload must have to trigger processing. An empty string matches every key."
  default     = "uploads/"

  validation {
    condition     = var.source_prefix == "" || can(regex("^[^/].*/$", var.source_prefix))
    error_message = "source_prefix must be empty or end with \"/\" and not start with \"/\"."
  }
}

variable "source_suffixes" {
  type        = list(string)
  description = "Key suffixes that trigger processing; one notification rule is made per suffix. S3 matches them case-sensitively."
  default     = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"]

  validation {
    condition     = length(var.source_suffixes) >= 1 && alltrue([for s in var.source_suffixes : can(regex("^[A-Za-z0-9._-]+$", s))])
    error_message = "source_suffixes must hold at least one suffix made of letters, digits, dots, hyphens and underscores."
  }

  validation {
    # S3 rejects two rules for the same event whose filters overlap; with one prefix that
    # means no suffix may end with another suffix (this also rules out duplicates).
    condition     = alltrue([for a in var.source_suffixes : length([for b in var.source_suffixes : b if endswith(b, a)]) == 1])
    error_message = "source_suffixes must not overlap: no suffix may be repeated or be the ending of another suffix."
  }
}

variable "notification_target" {
  type        = string
  description = "Where the source bucket sends ObjectCreated events: \"lambda\" (straight to the function, needs lambda_function_arn) or \"sqs\" (to the buffering queue, needs queue_arn)."

  validation {
    condition     = contains(["lambda", "sqs"], var.notification_target)
    error_message = "notification_target must be \"lambda\" or \"sqs\"."
  }
}

variable "lambda_function_arn" {
  type        = string
  description = "ARN of the processing function. Required when notification_target is \"lambda\"."
  default     = null

  validation {
    condition     = var.lambda_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$", var.lambda_function_arn))
    error_message = "lambda_function_arn must be null or a Lambda function ARN."
  }
}

variable "queue_arn" {
  type        = string
  description = "ARN of the SQS queue that buffers events for the function. Required when notification_target is \"sqs\"."
  default     = null

  validation {
    condition     = var.queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.queue_arn))
    error_message = "queue_arn must be null or the ARN of a standard SQS queue (S3 cannot notify FIFO queues)."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after an object version stops being current before S3 deletes it, in every bucket."
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "abort_incomplete_multipart_days" {
  type        = number
  description = "Days after which S3 aborts an unfinished multipart upload and deletes its parts, in every bucket."
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && floor(var.abort_incomplete_multipart_days) == var.abort_incomplete_multipart_days
    error_message = "abort_incomplete_multipart_days must be a whole number of at least 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Whether destroying the module deletes the buckets even when they still hold objects. Keep false outside throw-away environments."
  default     = false
}

variable "notification_dependencies" {
  type        = list(string)
  description = "IDs of what must exist before the notification: the Lambda permission or the queue policy."
  default     = []
}
