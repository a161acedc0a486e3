output "instance_id" {
  description = "ID of the observability EC2 instance."
  value       = aws_instance.this.id
}

output "instance_private_ip" {
  description = "Private IPv4 address of the instance (Prometheus :9090, Alertmanager :9093, Grafana :3000, exporter :5000)."
  value       = aws_instance.this.private_ip
}

output "security_group_id" {
  description = "ID of the instance's security group."
  value       = aws_security_group.this.id
}

output "role_arn" {
  description = "ARN of the instance's IAM role (the exporter's permissions)."
  value       = aws_iam_role.this.arn
}
