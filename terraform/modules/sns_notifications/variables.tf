variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. \"image-processor-dev\"."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 40 characters of lower-case letters, digits and hyphens, and must not start or end with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource of this module."
  default     = {}
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the customer-managed KMS key that encrypts both topics. Its key policy must let cloudwatch.amazonaws.com use it, or alarm notifications are dropped."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Email addresses subscribed to the alerts topic (alarm notifications). Each address must confirm its subscription."
  default     = []

  validation {
    condition     = alltrue([for email in var.alert_emails : can(regex("^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$", email))])
    error_message = "Every entry of alert_emails must be an email address (name@domain.tld)."
  }
}

variable "notification_emails" {
  type        = list(string)
  description = "Email addresses subscribed to the notifications topic (informational messages). Each address must confirm its subscription."
  default     = []

  validation {
    condition     = alltrue([for email in var.notification_emails : can(regex("^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$", email))])
    error_message = "Every entry of notification_emails must be an email address (name@domain.tld)."
  }
}
