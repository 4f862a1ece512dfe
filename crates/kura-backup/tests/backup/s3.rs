//! Backups to a real S3-compatible server: `rclone serve s3` on 127.0.0.1.
