output "kms_key_arn" {
  description = "ARN of the key that encrypts the buckets, the function's environment and logs, the queues and the topics."
  value       = aws_kms_key.this.arn
}

output "source_bucket_name" {
  description = "Bucket to upload images to (under source_prefix)."
  value       = module.s3_buckets.source_bucket_id
}

output "destination_bucket_name" {
  description = "Bucket the variants are written to (under destination_prefix)."
  value       = module.s3_buckets.destination_bucket_id
}

output "function_name" {
  description = "Name of the image processing function."
  value       = module.lambda_function.function_name
}

output "function_arn" {
  description = "ARN of the image processing function."
  value       = module.lambda_function.function_arn
}

output "dead_letter_queue_name" {
  description = "Queue that receives the events the function failed on after its retries."
  value       = module.lambda_function.dead_letter_queue_name
}

output "alerts_topic_arn" {
  description = "SNS topic the alarms publish to."
  value       = module.sns_notifications.alerts_topic_arn
}

output "notifications_topic_arn" {
  description = "SNS topic for operational notifications, including alarms returning to OK."
  value       = module.sns_notifications.notifications_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = module.cloudwatch_metrics.dashboard_name
}

output "observability_instance_id" {
  description = "Instance running the exporter, Prometheus, Alertmanager and Grafana; null when not deployed."
  value       = one(module.observability_ec2[*].instance_id)
}
