variable "name_prefix" {
  type        = string
  description = "Prefix for every name this module creates, e.g. \"image-processor-dev\"."

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
  description = "ARN of the customer-managed KMS key (created by the root) that encrypts the root volume."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC the security group is created in."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_id" {
  type        = string
  description = "ID of the (private) subnet the instance runs in. It needs outbound HTTPS/HTTP, e.g. through a NAT gateway, for packages, the exporter binary and the AWS APIs."

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must look like subnet-0123456789abcdef0."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type. Its architecture must match the AMI and the exporter binary (arm64 by default)."
  default     = "t4g.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type such as t4g.small or m7g.large."
  }
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "CIDR blocks allowed to reach Prometheus (9090), Alertmanager (9093), Grafana (3000) and the exporter (5000). An empty list opens none of them."

  validation {
    condition = alltrue([
      for cidr in var.allowed_cidrs : can(cidrhost(cidr, 0)) && can(regex("/[0-9]+$", cidr))
    ])
    error_message = "Every entry of allowed_cidrs must be a CIDR block such as 10.0.0.0/16."
  }

  validation {
    condition = alltrue([
      for cidr in var.allowed_cidrs : !can(regex("/0$", cidr))
    ])
    error_message = "allowed_cidrs must not contain 0.0.0.0/0, ::/0 or any other /0 block."
  }
}

variable "ami_ssm_parameter" {
  type        = string
  description = "Name of the SSM public parameter that holds the AMI ID (Debian 12, arm64 by default)."
  default     = "/aws/service/debian/release/12/latest/arm64"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.ami_ssm_parameter))
    error_message = "ami_ssm_parameter must be an SSM parameter path starting with /."
  }
}

variable "exporter_package_url" {
  type        = string
  description = "HTTPS URL the user data downloads the exporter binary from (a Linux build for the instance's architecture)."

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/?&=%+:@,-]*)?$", var.exporter_package_url))
    error_message = "exporter_package_url must be an https:// URL without spaces, quotes or shell metacharacters."
  }
}

variable "exporter_package_sha256" {
  type        = string
  description = "Optional SHA-256 checksum (64 hex digits) of the exporter binary; when set, the user data refuses a download that does not match."
  default     = null

  validation {
    condition     = var.exporter_package_sha256 == null || can(regex("^[0-9a-f]{64}$", var.exporter_package_sha256))
    error_message = "exporter_package_sha256 must be null or 64 lower-case hex digits."
  }
}

variable "function_name" {
  type        = string
  description = "Name of the image processor's Lambda function (CloudWatch dimension FunctionName)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "dead_letter_queue_name" {
  type        = string
  description = "Name of the function's SQS dead-letter queue (CloudWatch dimension QueueName)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,75}(\\.fifo)?$|^[A-Za-z0-9_-]{1,80}$", var.dead_letter_queue_name))
    error_message = "dead_letter_queue_name must be a valid SQS queue name."
  }
}

variable "queue_name" {
  type        = string
  description = "Name of the SQS queue in front of the function (SQS buffered mode); null when the function is invoked by S3 directly."
  default     = null

  validation {
    condition     = var.queue_name == null || can(regex("^[A-Za-z0-9_-]{1,75}(\\.fifo)?$|^[A-Za-z0-9_-]{1,80}$", var.queue_name))
    error_message = "queue_name must be null or a valid SQS queue name."
  }
}

variable "root_volume_size" {
  type        = number
  description = "Size of the encrypted gp3 root volume in GiB (holds the Prometheus TSDB)."
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 200 && floor(var.root_volume_size) == var.root_volume_size
    error_message = "root_volume_size must be a whole number of GiB from 8 to 200."
  }
}

variable "scrape_interval_seconds" {
  type        = number
  description = "How often the exporter queries CloudWatch (-scraping-interval) and Prometheus scrapes its targets, in seconds."
  default     = 60

  validation {
    condition     = var.scrape_interval_seconds >= 10 && var.scrape_interval_seconds <= 3600 && floor(var.scrape_interval_seconds) == var.scrape_interval_seconds
    error_message = "scrape_interval_seconds must be a whole number from 10 to 3600."
  }
}

variable "environment" {
  type        = string
  description = "Environment of the pipeline: the Environment dimension of the processor's own metrics."
  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1 to 16 lower-case letters, digits or hyphens."
  }
}
