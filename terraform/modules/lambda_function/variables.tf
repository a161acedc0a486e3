variable "name_prefix" {
  type        = string
  description = "Prefix for the names of everything this module creates, for example \"image-processor-dev\". The function is named after it."

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
  description = "ARN of the customer-managed KMS key that encrypts the environment variables, the log group and the queues, and that protects the objects in both buckets."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "package_path" {
  type        = string
  description = "Path of the deployment zip made by `cargo lambda build --release --arm64 --output-format zip`, relative to the root module's working directory."
  default     = "../target/lambda/bootstrap/bootstrap.zip"

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must point at a .zip file."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set the package was built for: \"arm64\" (Graviton, the default build) or \"x86_64\"."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the function in MB. CPU share grows with it; decoded images need width x height x 4 bytes and more."
  default     = 1024

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  type        = number
  description = "Function timeout in seconds."
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Concurrent executions reserved for (and capping) the function. Limits cost and the blast radius of a processing loop."
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number of at least 1."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch Logs keeps the function's log events."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  type        = string
  description = "Lowest level of application log lines that Lambda keeps (JSON log format). WARN and above are refused: Lambda files the processor's metric lines (EMF, no level) as INFO and would drop them."
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO"], var.log_level)
    error_message = "log_level must be TRACE, DEBUG or INFO; higher levels would drop the processor's metric lines."
  }
}

variable "source_bucket_arn" {
  type        = string
  description = "ARN of the bucket the original images are read from."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.source_bucket_arn))
    error_message = "source_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "source_prefix" {
  type        = string
  description = "Key prefix of the uploads the function may read. An empty string means the whole bucket."
  default     = "uploads/"

  validation {
    condition     = var.source_prefix == "" || can(regex("^[^/].*/$", var.source_prefix))
    error_message = "source_prefix must be empty or end with \"/\" and not start with \"/\"."
  }
}

variable "destination_bucket_name" {
  type        = string
  description = "Name of the bucket the processed images are written to."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.destination_bucket_name))
    error_message = "destination_bucket_name must be a valid S3 bucket name."
  }
}

variable "destination_bucket_arn" {
  type        = string
  description = "ARN of the bucket the processed images are written to."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.destination_bucket_arn))
    error_message = "destination_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "destination_prefix" {
  type        = string
  description = "Key prefix under which the processed images are written; the only place the function may write."
  default     = "processed/"

  validation {
    condition     = can(regex("^[^/].*/$", var.destination_prefix))
    error_message = "destination_prefix must end with \"/\" and not start with \"/\"."
  }
}

variable "environment" {
  type        = string
  description = "Deployment environment, for example \"dev\". Passed to the processor, which uses it as the Environment metric dimension."

  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1 to 16 lower-case letters, digits and hyphens."
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
  description = "Output variants made from every image: name (also the key segment), bounding width and height in pixels, fit (inside, cover or contain), format (jpeg, png, webp, avif, or same as the input) and quality (1 to 100)."
  default = [
    { name = "thumbnail", width = 200, height = 200, fit = "cover", format = "webp", quality = 80 },
    { name = "medium", width = 800, height = 800, fit = "inside", format = "jpeg", quality = 85 },
  ]

  validation {
    # Lambda caps all environment variables together at 4 KB; twenty variants fit easily.
    condition     = length(var.variants) >= 1 && length(var.variants) <= 20
    error_message = "variants must hold between 1 and 20 entries."
  }

  validation {
    condition     = alltrue([for v in var.variants : can(regex("^[a-z0-9_-]+$", v.name))]) && length(distinct([for v in var.variants : v.name])) == length(var.variants)
    error_message = "Every variant name must match ^[a-z0-9_-]+$ and be unique."
  }

  validation {
    condition     = alltrue([for v in var.variants : v.width >= 1 && v.height >= 1 && floor(v.width) == v.width && floor(v.height) == v.height])
    error_message = "Every variant width and height must be a whole number of at least 1."
  }

  validation {
    condition     = alltrue([for v in var.variants : contains(["inside", "cover", "contain"], v.fit)])
    error_message = "Every variant fit must be one of inside, cover, contain."
  }

  validation {
    condition     = alltrue([for v in var.variants : contains(["jpeg", "png", "webp", "avif", "same"], v.format)])
    error_message = "Every variant format must be one of jpeg, png, webp, avif, same."
  }

  validation {
    condition     = alltrue([for v in var.variants : v.quality >= 1 && v.quality <= 100 && floor(v.quality) == v.quality])
    error_message = "Every variant quality must be a whole number from 1 to 100."
  }
}

variable "max_input_bytes" {
  type        = number
  description = "Largest source object, in bytes, the processor will download; bigger objects are rejected without processing."
  default     = 52428800

  validation {
    condition     = var.max_input_bytes >= 1 && floor(var.max_input_bytes) == var.max_input_bytes
    error_message = "max_input_bytes must be a whole number of at least 1."
  }
}

variable "max_megapixels" {
  type        = number
  description = "Largest image, in megapixels, the processor will decode; bigger images are rejected after reading only the header."
  default     = 100

  validation {
    condition     = var.max_megapixels > 0
    error_message = "max_megapixels must be greater than 0."
  }
}

variable "cache_control" {
  type        = string
  description = "Cache-Control header set on every processed image."
  default     = "public, max-age=31536000, immutable"

  validation {
    condition     = length(trimspace(var.cache_control)) > 0
    error_message = "cache_control must not be empty."
  }
}

variable "sqs_buffered" {
  type        = bool
  description = "When true, S3 events go to an SQS queue that the function polls in batches; when false, S3 invokes the function directly."
  default     = false
}

variable "batch_size" {
  type        = number
  description = "Most messages the function receives per invocation when sqs_buffered is true."
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number from 1 to 10000."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Times Lambda retries a failed asynchronous (direct S3) invocation before sending the event to the dead-letter queue."
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}
