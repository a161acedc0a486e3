variable "name_prefix" {
  type        = string
  description = "Prefix of every filter, metric and alarm name, e.g. \"image-processor-dev\"."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 40 characters of lower-case letters, digits and hyphens, and must not start or end with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every alarm (metric filters cannot be tagged)."
  default     = {}
}

variable "log_group_name" {
  type        = string
  description = "Name of the function's log group, e.g. \"/aws/lambda/image-processor-dev-processor\"."

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1 to 512 letters, digits or . _ / # - characters."
  }
}

variable "alarm_topic_arn" {
  type        = string
  description = "ARN of the SNS topic notified when a log alarm goes to ALARM."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be the ARN of an SNS topic."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the metrics the log filters publish."
  default     = "ImageProcessingLogs"

  validation {
    condition     = can(regex("^[A-Za-z0-9 ._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters (letters, digits, space and . _ / # : -) and must not start with \"AWS/\"."
  }
}
