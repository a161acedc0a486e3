locals {
  function_dimensions = {
    FunctionName = var.function_name
  }

  # The processor's EMF metrics carry the dimension set [FunctionName, Environment].
  processor_dimensions = {
    FunctionName = var.function_name
    Environment  = var.environment
  }

  alarms = {
    lambda_errors = {
      enabled     = true
      description = "The function reported more than ${var.errors_threshold} failed invocations per ${var.period_seconds} s for ${var.evaluation_periods} periods in a row."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      threshold   = var.errors_threshold
      periods     = var.evaluation_periods
      # Lambda publishes Errors only for periods with invocations: no data means nothing ran,
      # so nothing failed.
      treat_missing_data = "notBreaching"
    }

    lambda_duration = {
      enabled     = true
      description = "Average invocation duration was above ${var.duration_threshold_ms} ms for ${var.evaluation_periods} periods of ${var.period_seconds} s in a row."
      namespace   = "AWS/Lambda"
      metric_name = "Duration"
      dimensions  = local.function_dimensions
      statistic   = "Average"
      threshold   = var.duration_threshold_ms
      periods     = var.evaluation_periods
      # No invocations means no Duration datapoint; an idle function is not slow.
      treat_missing_data = "notBreaching"
    }

    lambda_throttles = {
      enabled     = true
      description = "More than ${var.throttles_threshold} invocations per ${var.period_seconds} s were throttled (reserved concurrency reached) for ${var.evaluation_periods} periods in a row."
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      threshold   = var.throttles_threshold
      periods     = var.evaluation_periods
      # Throttles is published only when invocations are attempted; no data means no throttling.
      treat_missing_data = "notBreaching"
    }

    queue_depth = {
      enabled     = var.queue_name != null
      description = "More than ${var.queue_depth_threshold} S3 events were waiting in the buffering queue for ${var.evaluation_periods} periods of ${var.period_seconds} s in a row: the function is not keeping up."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.queue_name }
      statistic   = "Maximum"
      threshold   = var.queue_depth_threshold
      periods     = var.evaluation_periods
      # SQS publishes metrics only for active queues (holding messages, or used in the last six
      # hours); a queue with a backlog is active, so a missing datapoint means an empty queue.
      treat_missing_data = "notBreaching"
    }

    dead_letter_queue = {
      enabled     = true
      description = "At least one event is in the dead-letter queue: an image failed every retry and was not processed."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.dead_letter_queue_name }
      statistic   = "Maximum"
      threshold   = 0
      # A single dead letter is worth a notification: one period, not several.
      periods = 1
      # A queue holding messages counts as active and keeps publishing metrics, so a gap means
      # the dead-letter queue is empty and idle; only a visible message should alarm.
      treat_missing_data = "notBreaching"
    }

    processing_errors = {
      enabled     = true
      description = "The processor counted more than ${var.processing_errors_threshold} ProcessingErrors per ${var.period_seconds} s for ${var.evaluation_periods} periods in a row (see the ErrorType dimension for the cause)."
      namespace   = var.metrics_namespace
      metric_name = "ProcessingErrors"
      dimensions  = local.processor_dimensions
      statistic   = "Sum"
      threshold   = var.processing_errors_threshold
      periods     = var.evaluation_periods
      # The processor writes ProcessingErrors = 0 on every success, so a gap only happens
      # when no image was processed at all; that is not an error.
      treat_missing_data = "notBreaching"
    }

    processing_time = {
      enabled     = true
      description = "The processor's average ProcessingTime was above ${var.processing_time_threshold_ms} ms for ${var.evaluation_periods} periods of ${var.period_seconds} s in a row."
      namespace   = var.metrics_namespace
      metric_name = "ProcessingTime"
      dimensions  = local.processor_dimensions
      statistic   = "Average"
      threshold   = var.processing_time_threshold_ms
      periods     = var.evaluation_periods
      # No images processed means no ProcessingTime samples; idleness is not slowness.
      treat_missing_data = "notBreaching"
    }
  }

  enabled_alarms = { for key, alarm in local.alarms : key => alarm if alarm.enabled }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.enabled_alarms

  alarm_name        = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = each.value.namespace
  metric_name = each.value.metric_name
  dimensions  = each.value.dimensions
  statistic   = each.value.statistic
  period      = var.period_seconds

  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  treat_missing_data  = each.value.treat_missing_data

  actions_enabled           = true
  alarm_actions             = [var.alarm_topic_arn]
  ok_actions                = var.ok_topic_arn == null ? [] : [var.ok_topic_arn]
  insufficient_data_actions = []

  tags = var.tags
}
