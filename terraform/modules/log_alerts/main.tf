locals {
  period_seconds = 300

  filters = {
    errors = {
      # Application error lines: the processor logs JSON with a top-level "level" field.
      pattern     = "{ $.level = \"ERROR\" }"
      metric_name = "ApplicationErrors"
      description = "The function logged at least one ERROR line in ${local.period_seconds} s."
    }

    timeouts = {
      # "Task timed out after N seconds" is the text-format line; with the JSON log format the
      # platform report of a timed-out invocation carries errorType "Sandbox.Timedout".
      pattern     = "?\"Task timed out\" ?\"Sandbox.Timedout\""
      metric_name = "Timeouts"
      description = "At least one invocation hit the function timeout in ${local.period_seconds} s."
    }

    out_of_memory = {
      # An out-of-memory kill shows as "Runtime exited with error: signal: killed" (text format)
      # or errorType "Runtime.OutOfMemory" (JSON format); other runtime exits (a crash of the
      # bootstrap process) match "Runtime exited" too and deserve the same alarm.
      pattern     = "?\"Runtime exited\" ?\"signal: killed\" ?\"Runtime.OutOfMemory\""
      metric_name = "OutOfMemory"
      description = "The function's runtime was killed or exited (usually out of memory) at least once in ${local.period_seconds} s."
    }
  }
}

resource "aws_cloudwatch_log_metric_filter" "this" {
  for_each = local.filters

  name           = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  log_group_name = var.log_group_name
  pattern        = each.value.pattern

  metric_transformation {
    namespace = var.metrics_namespace
    # The metric name carries name_prefix: filters cannot set dimensions on text patterns, so
    # this keeps two stacks in one account and region from adding to each other's counts.
    name  = "${var.name_prefix}-${each.value.metric_name}"
    value = "1"
    # Log events that do not match publish 0, so graphs show quiet periods as zero.
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.filters

  alarm_name        = "${var.name_prefix}-log-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = var.metrics_namespace
  metric_name = aws_cloudwatch_log_metric_filter.this[each.key].metric_transformation[0].name
  statistic   = "Sum"
  period      = local.period_seconds

  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  # The filter publishes only while the function writes logs; a period without any log event
  # means the function did not run, so it cannot have failed.
  treat_missing_data = "notBreaching"

  actions_enabled           = true
  alarm_actions             = [var.alarm_topic_arn]
  ok_actions                = []
  insufficient_data_actions = []

  tags = var.tags
}
