variable "name_prefix" {
  type        = string
  description = "Prefix of every alarm name, e.g. \"image-processor-dev\"."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 40 characters of lower-case letters, digits and hyphens, and must not start or end with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every alarm."
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
  description = "Name of the function's SQS dead-letter queue (the QueueName dimension)."

  validation {
    condition     = can(regex("^([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}[.]fifo)$", var.dead_letter_queue_name))
    error_message = "dead_letter_queue_name must be an SQS queue name: up to 80 letters, digits, hyphens or underscores (a FIFO name ends in .fifo)."
  }
}

variable "queue_name" {
  type        = string
  description = "Name of the SQS queue that buffers S3 events in front of the function, or null when S3 invokes the function directly (no queue-depth alarm then)."
  default     = null

  validation {
    condition     = var.queue_name == null || can(regex("^([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}[.]fifo)$", var.queue_name))
    error_message = "queue_name must be null or an SQS queue name: up to 80 letters, digits, hyphens or underscores (a FIFO name ends in .fifo)."
  }
}

variable "alarm_topic_arn" {
  type        = string
  description = "ARN of the SNS topic notified when an alarm goes to ALARM."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be the ARN of an SNS topic."
  }
}

variable "ok_topic_arn" {
  type        = string
  description = "ARN of the SNS topic notified when an alarm returns to OK, or null for no OK notifications."
  default     = null

  validation {
    condition     = var.ok_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.ok_topic_arn))
    error_message = "ok_topic_arn must be null or the ARN of an SNS topic."
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

variable "period_seconds" {
  type        = number
  description = "Length in seconds of one evaluation period of every alarm."
  default     = 300

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be a multiple of 60 (the AWS/Lambda and AWS/SQS metrics have one-minute resolution at best)."
  }
}

variable "evaluation_periods" {
  type        = number
  description = "Number of consecutive breaching periods before an alarm fires (the dead-letter-queue alarm always uses one)."
  default     = 2

  validation {
    condition     = var.evaluation_periods >= 1 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number >= 1."
  }
}

variable "errors_threshold" {
  type        = number
  description = "Lambda Errors (Sum per period) above which the errors alarm fires."
  default     = 5

  validation {
    condition     = var.errors_threshold > 0
    error_message = "errors_threshold must be greater than 0."
  }
}

variable "duration_threshold_ms" {
  type        = number
  description = "Lambda Duration (Average per period, milliseconds) above which the duration alarm fires."
  default     = 30000

  validation {
    condition     = var.duration_threshold_ms > 0
    error_message = "duration_threshold_ms must be greater than 0."
  }
}

variable "throttles_threshold" {
  type        = number
  description = "Lambda Throttles (Sum per period) above which the throttles alarm fires."
  default     = 10

  validation {
    condition     = var.throttles_threshold > 0
    error_message = "throttles_threshold must be greater than 0."
  }
}

variable "queue_depth_threshold" {
  type        = number
  description = "Visible messages in the buffering queue (Maximum per period) above which the queue-depth alarm fires."
  default     = 100

  validation {
    condition     = var.queue_depth_threshold > 0
    error_message = "queue_depth_threshold must be greater than 0."
  }
}

variable "processing_errors_threshold" {
  type        = number
  description = "The processor's ProcessingErrors (Sum per period) above which the processing-errors alarm fires."
  default     = 5

  validation {
    condition     = var.processing_errors_threshold > 0
    error_message = "processing_errors_threshold must be greater than 0."
  }
}

variable "processing_time_threshold_ms" {
  type        = number
  description = "The processor's ProcessingTime (Average per period, milliseconds) above which the processing-time alarm fires."
  default     = 10000

  validation {
    condition     = var.processing_time_threshold_ms > 0
    error_message = "processing_time_threshold_ms must be greater than 0."
  }
}
