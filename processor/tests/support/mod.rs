//! What the processor's tests against the emulator share: AWS clients pointed at moto.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use devstack::Moto;
use devstack::moto::REGION;

/// The SDK configuration that reaches `moto` with dummy credentials, and a path-style S3
/// client on it (moto serves buckets by path, not by host name).
pub fn moto_clients(
    moto: &Moto,
    runtime: &tokio::runtime::Runtime,
) -> (aws_config::SdkConfig, aws_sdk_s3::Client) {
    let shared = runtime.block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(moto.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .load(),
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(true)
            .build(),
    );
    (shared, s3)
}

/// Puts `bytes` at `bucket`/`key` and returns the ETag as an event carries it, without quotes.
pub fn upload(
    runtime: &tokio::runtime::Runtime,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    bytes: &[u8],
) -> String {
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(bytes.to_vec().into())
        .send();
    let output = runtime.block_on(put).unwrap();
    output.e_tag().unwrap().trim_matches('"').to_owned()
}
