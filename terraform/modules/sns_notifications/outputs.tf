output "alerts_topic_arn" {
  description = "ARN of the alerts topic (pass it to the alarms as alarm_topic_arn)."
  value       = aws_sns_topic.alerts.arn
}

output "notifications_topic_arn" {
  description = "ARN of the notifications topic (for informational messages, e.g. the alarms' ok_topic_arn)."
  value       = aws_sns_topic.notifications.arn
}
