output "source_bucket_id" {
  description = "Name (id) of the source bucket."
  value       = aws_s3_bucket.source.id
}

output "source_bucket_arn" {
  description = "ARN of the source bucket."
  value       = aws_s3_bucket.source.arn
}

output "destination_bucket_id" {
  description = "Name (id) of the destination bucket."
  value       = aws_s3_bucket.destination.id
}

output "destination_bucket_arn" {
  description = "ARN of the destination bucket."
  value       = aws_s3_bucket.destination.arn
}

output "log_bucket_id" {
  description = "Name (id) of the bucket that receives the server access logs of the source and destination buckets."
  value       = aws_s3_bucket.logs.id
}
