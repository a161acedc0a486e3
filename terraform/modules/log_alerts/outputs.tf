output "metric_filter_names" {
  description = "Names of the log metric filters (application errors, timeouts, out-of-memory)."
  value       = [for filter in aws_cloudwatch_log_metric_filter.this : filter.name]
}

output "alarm_arns" {
  description = "ARN of every log alarm, keyed by filter: errors, timeouts, out_of_memory."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}
