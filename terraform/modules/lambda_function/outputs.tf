output "function_name" {
  description = "Name of the image-processing function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the image-processing function (unqualified)."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue that receives events which failed every attempt."
  value       = aws_sqs_queue.dlq.arn
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "queue_arn" {
  description = "ARN of the queue that buffers S3 events for the function; null unless sqs_buffered."
  value       = one(aws_sqs_queue.this[*].arn)
}

output "queue_name" {
  description = "Name of the queue that buffers S3 events for the function; null unless sqs_buffered."
  value       = one(aws_sqs_queue.this[*].name)
}

output "permission_id" {
  description = "ID of the permission that lets the source bucket invoke the function; null when sqs_buffered."
  value       = one(aws_lambda_permission.this[*].id)
}

output "queue_policy_id" {
  description = "ID of the queue policy that lets the source bucket send to the queue; null unless sqs_buffered."
  value       = one(aws_sqs_queue_policy.this[*].id)
}
