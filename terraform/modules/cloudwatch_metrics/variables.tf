variable "name_prefix" {
  type        = string
  description = "Prefix of the dashboard name, e.g. \"image-processor-dev\"."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 40 characters of lower-case letters, digits and hyphens, and must not start or end with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for taggable resources. Accepted for a uniform module interface; CloudWatch dashboards cannot be tagged, so nothing here uses it."
  default     = {}
}

variable "function_name" {
  type        = string
  description = "Name of the image-processing Lambda function (the FunctionName dimension)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "dead_letter_queue_name" {
  type        = string
  description = "Name of the function's SQS dead-letter queue."

  validation {
    condition     = can(regex("^([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}[.]fifo)$", var.dead_letter_queue_name))
    error_message = "dead_letter_queue_name must be an SQS queue name: up to 80 letters, digits, hyphens or underscores (a FIFO name ends in .fifo)."
  }
}

variable "queue_name" {
  type        = string
  description = "Name of the SQS queue that buffers S3 events in front of the function, or null when S3 invokes the function directly."
  default     = null

  validation {
    condition     = var.queue_name == null || can(regex("^([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}[.]fifo)$", var.queue_name))
    error_message = "queue_name must be null or an SQS queue name: up to 80 letters, digits, hyphens or underscores (a FIFO name ends in .fifo)."
  }
}

variable "source_bucket_name" {
  type        = string
  description = "Name of the bucket uploads land in."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "destination_bucket_name" {
  type        = string
  description = "Name of the bucket the processed variants are written to."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.destination_bucket_name))
    error_message = "destination_bucket_name must be a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the processor's embedded-metric-format metrics."
  default     = "ImageProcessing"

  validation {
    condition     = can(regex("^[A-Za-z0-9 ._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters (letters, digits, space and . _ / # : -) and must not start with \"AWS/\"."
  }
}

variable "environment" {
  type        = string
  description = "Deployment environment, e.g. \"dev\" (the Environment dimension of the processor's metrics)."

  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1 to 16 lower-case letters, digits or hyphens."
  }
}
