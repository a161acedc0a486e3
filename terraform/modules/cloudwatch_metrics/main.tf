data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region

  # Dimension pairs as CloudWatch dashboard metric rows expect them: name, value, name, value.
  function_dimensions  = ["FunctionName", var.function_name]
  processor_dimensions = ["FunctionName", var.function_name, "Environment", var.environment]

  # The buffering queue exists only in SQS-buffered mode.
  queue_names = var.queue_name == null ? [] : [var.queue_name]

  # Per-ErrorType breakdown of ProcessingErrors, whatever error types the processor reports.
  error_type_search = join("", [
    "SEARCH('{\"${var.metrics_namespace}\",Environment,ErrorType,FunctionName} ",
    "MetricName=\"ProcessingErrors\" FunctionName=\"${var.function_name}\" Environment=\"${var.environment}\"', ",
    "'Sum', 300)",
  ])

  # Widget properties in reading order; placement (two per row) is computed below.
  widgets = [
    {
      title = "Lambda invocations and errors"
      stat  = "Sum"
      metrics = [
        concat(["AWS/Lambda", "Invocations"], local.function_dimensions),
        concat(["AWS/Lambda", "Errors"], local.function_dimensions),
      ]
    },
    {
      title = "Lambda duration (ms)"
      stat  = "Average"
      metrics = [
        concat(["AWS/Lambda", "Duration"], local.function_dimensions, [{ stat = "Average", label = "Average" }]),
        concat(["AWS/Lambda", "Duration"], local.function_dimensions, [{ stat = "p99", label = "p99" }]),
        concat(["AWS/Lambda", "Duration"], local.function_dimensions, [{ stat = "Maximum", label = "Maximum" }]),
      ]
    },
    {
      title = "Lambda throttles and concurrency"
      stat  = "Sum"
      metrics = [
        concat(["AWS/Lambda", "Throttles"], local.function_dimensions),
        concat(["AWS/Lambda", "ConcurrentExecutions"], local.function_dimensions, [{ stat = "Maximum", yAxis = "right" }]),
      ]
    },
    {
      title = "SQS visible messages (queue and dead-letter queue)"
      stat  = "Maximum"
      metrics = concat(
        [for queue in local.queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = "queue ${queue}" }]],
        [for queue in local.queue_names : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { label = "oldest message age (s) ${queue}", yAxis = "right" }]],
        [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dead_letter_queue_name, { label = "dead-letter queue ${var.dead_letter_queue_name}" }]],
      )
    },
    {
      title = "Images processed and processing errors"
      stat  = "Sum"
      metrics = [
        concat([var.metrics_namespace, "ImagesProcessed"], local.processor_dimensions),
        concat([var.metrics_namespace, "ProcessingErrors"], local.processor_dimensions),
      ]
    },
    {
      title = "Processing errors by ErrorType"
      stat  = "Sum"
      metrics = [
        [{ expression = local.error_type_search, id = "errors_by_type", label = "" }],
      ]
    },
    {
      title = "Processing time (ms)"
      stat  = "Average"
      metrics = [
        concat([var.metrics_namespace, "ProcessingTime"], local.processor_dimensions, [{ stat = "Average", label = "Average" }]),
        concat([var.metrics_namespace, "ProcessingTime"], local.processor_dimensions, [{ stat = "p99", label = "p99" }]),
      ]
    },
    {
      title = "Bytes read and written"
      stat  = "Sum"
      metrics = [
        concat([var.metrics_namespace, "BytesIn"], local.processor_dimensions),
        concat([var.metrics_namespace, "BytesOut"], local.processor_dimensions),
      ]
    },
    {
      # S3 storage metrics are daily, so a shorter period shows nothing.
      title  = "S3 bucket size (bytes, Standard storage)"
      stat   = "Average"
      period = 86400
      metrics = [
        ["AWS/S3", "BucketSizeBytes", "BucketName", var.source_bucket_name, "StorageType", "StandardStorage", { label = "source ${var.source_bucket_name}" }],
        ["AWS/S3", "BucketSizeBytes", "BucketName", var.destination_bucket_name, "StorageType", "StandardStorage", { label = "destination ${var.destination_bucket_name}" }],
      ]
    },
    {
      title  = "S3 object count"
      stat   = "Average"
      period = 86400
      metrics = [
        ["AWS/S3", "NumberOfObjects", "BucketName", var.source_bucket_name, "StorageType", "AllStorageTypes", { label = "source ${var.source_bucket_name}" }],
        ["AWS/S3", "NumberOfObjects", "BucketName", var.destination_bucket_name, "StorageType", "AllStorageTypes", { label = "destination ${var.destination_bucket_name}" }],
      ]
    },
  ]

  widget_width  = 12
  widget_height = 6
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix

  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : {
        type   = "metric"
        x      = (index % 2) * local.widget_width
        y      = floor(index / 2) * local.widget_height
        width  = local.widget_width
        height = local.widget_height
        properties = merge(
          {
            region  = local.region
            view    = "timeSeries"
            stacked = false
            period  = 300
          },
          widget,
        )
      }
    ]
  })
}
