variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "project" {
  type        = string
  description = "Project name, the first part of every resource name."
  default     = "image-processor"
  validation {
    # <project>-<environment> stays within 38 characters, so the default bucket names
    # (<prefix>-destination-<account id>) stay within S3's 63.
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}[a-z0-9]$", var.project))
    error_message = "project must be 3 to 21 lower-case letters, digits or hyphens."
  }
}

variable "environment" {
  type        = string
  description = "Deployment environment, the second part of every resource name and the Environment metric dimension."
  default     = "dev"
  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1 to 16 lower-case letters, digits or hyphens."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource, besides Project and Environment."
  default     = {}
}

variable "source_bucket_name" {
  type        = string
  description = "Name of the bucket users upload images to; empty means <project>-<environment>-source-<account id>."
  default     = ""
  validation {
    condition     = var.source_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be a valid S3 bucket name without dots (dots break TLS with virtual-hosted addressing)."
  }
}

variable "destination_bucket_name" {
  type        = string
  description = "Name of the bucket the variants are written to; empty means <project>-<environment>-destination-<account id>."
  default     = ""
  validation {
    condition     = var.destination_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.destination_bucket_name))
    error_message = "destination_bucket_name must be a valid S3 bucket name without dots (dots break TLS with virtual-hosted addressing)."
  }
}

variable "source_prefix" {
  type        = string
  description = "Only objects under this prefix of the source bucket trigger the function."
  default     = "uploads/"
}

variable "destination_prefix" {
  type        = string
  description = "Prefix of the variants in the destination bucket."
  default     = "processed/"
}

variable "lambda_package_path" {
  type        = string
  description = "The bootstrap zip built by `cargo lambda build --release --arm64 --output-format zip`, relative to this folder."
  default     = "../target/lambda/bootstrap/bootstrap.zip"
}

variable "lambda_memory_size" {
  type        = number
  description = "Memory of the function in MB; CPU grows with it."
  default     = 1024
  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240
    error_message = "lambda_memory_size must be between 128 and 10240 MB."
  }
}

variable "lambda_timeout" {
  type        = number
  description = "Timeout of one invocation in seconds."
  default     = 60
  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 900
    error_message = "lambda_timeout must be between 1 and 900 seconds."
  }
}

variable "lambda_reserved_concurrency" {
  type        = number
  description = "Concurrent executions reserved for (and capping) the function. The account must keep 10 unreserved, so a new account with a quota of 10 needs a quota increase first."
  default     = 10
  validation {
    condition     = var.lambda_reserved_concurrency >= 1
    error_message = "lambda_reserved_concurrency must be at least 1."
  }
}

variable "variants" {
  type = list(object({
    name    = string
    width   = number
    height  = number
    fit     = string
    format  = string
    quality = number
  }))
  description = "The variants made of every upload: name, bounding box, fit (inside, cover, contain), format (jpeg, png, webp, avif, same) and quality (1-100)."
  default = [
    { name = "thumbnail", width = 200, height = 200, fit = "cover", format = "webp", quality = 80 },
    { name = "medium", width = 800, height = 800, fit = "inside", format = "jpeg", quality = 85 },
  ]
  validation {
    condition = alltrue([
      for v in var.variants :
      contains(["inside", "cover", "contain"], v.fit) && contains(["jpeg", "png", "webp", "avif", "same"], v.format) &&
      v.quality >= 1 && v.quality <= 100 && v.width >= 1 && v.height >= 1 && can(regex("^[a-z0-9_-]+$", v.name))
    ])
    error_message = "Each variant needs a name of [a-z0-9_-], width and height >= 1, fit inside|cover|contain, format jpeg|png|webp|avif|same and quality 1-100."
  }
}

variable "sqs_buffered" {
  type        = bool
  description = "Route S3 events through an SQS queue (batching, back-pressure, partial batch failures) instead of invoking the function directly."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function's log group in days."
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses subscribed to alarms."
  default     = []
  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "notification_emails" {
  type        = list(string)
  description = "Addresses subscribed to operational notifications."
  default     = []
  validation {
    condition     = alltrue([for e in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "notification_emails must be e-mail addresses."
  }
}

variable "observability_enabled" {
  type        = bool
  description = "Deploy the EC2 instance that runs the exporter, Prometheus, Alertmanager and Grafana."
  default     = false
}

variable "observability_vpc_id" {
  type        = string
  description = "VPC of the observability instance (needed when observability_enabled)."
  default     = ""
}

variable "observability_subnet_id" {
  type        = string
  description = "Private subnet of the observability instance (needed when observability_enabled)."
  default     = ""
}

variable "observability_allowed_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach Prometheus, Alertmanager, Grafana and the exporter."
  default     = []
  validation {
    condition     = alltrue([for c in var.observability_allowed_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "observability_allowed_cidrs must be CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "exporter_package_sha256" {
  type        = string
  description = "SHA-256 of the exporter binary; the observability instance refuses a download that does not match. Set it whenever observability_enabled."
  default     = null
}

variable "exporter_package_url" {
  type        = string
  description = "HTTPS URL of the exporter binary the observability instance downloads."
  default     = "https://example.invalid/exporter"
  validation {
    condition     = startswith(var.exporter_package_url, "https://")
    error_message = "exporter_package_url must be an https URL."
  }
}
