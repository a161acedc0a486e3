output "alarm_arns" {
  description = "ARN of every alarm, keyed by alarm: lambda_errors, lambda_duration, lambda_throttles, queue_depth (buffered mode only), dead_letter_queue, processing_errors, processing_time."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}
