//! The S3-triggered Lambda that resizes, converts and compresses uploaded images into a
//! destination bucket. The image pipeline itself is not built yet; what is here is the first
//! piece every trigger needs: reading object keys the way S3 writes them into events.

pub mod s3_key;
