//! Cold start: from spawning the release `bootstrap` until it asks the Runtime API for its first
//! event, which is when Lambda's Init phase ends. A one-shot listener on loopback plays the
//! Runtime API; the function gets the environment Lambda and Terraform give it. For comparison,
//! the time a Python process takes to start and import Pillow (`python3` on the PATH, which the
//! bench script points at its venv), which the seed's Python function pays before its handler.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn measure(bootstrap: &Path, runs: usize) {
    let ours: Vec<Duration> = (0..runs).map(|_| until_first_next(bootstrap)).collect();
    print(
        "bootstrap until its first GET /runtime/invocation/next",
        ours,
    );
    let python: Vec<Duration> = (0..runs).map(|_| python_with_pillow()).collect();
    print("python3 -c 'from PIL import Image' (start to exit)", python);
}

fn print(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "cold start, {what}: median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn until_first_next(bootstrap: &Path) -> Duration {
    let api = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = api.local_addr().expect("its address");
    let variants = r#"[{"name":"medium","width":800,"height":800,"fit":"inside","format":"jpeg","quality":80}]"#;
    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .env_clear()
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", address.to_string().as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "image-processor-bench"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/image-processor-bench",
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "bench"),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
            ("AWS_SESSION_TOKEN", "bench"),
            ("SOURCE_BUCKET", "uploads"),
            ("DESTINATION_BUCKET", "processed"),
            ("VARIANTS", variants),
            ("MAX_INPUT_BYTES", "52428800"),
            ("MAX_MEGAPIXELS", "100"),
            ("CACHE_CONTROL", "public, max-age=31536000"),
            ("ENVIRONMENT", "bench"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("the bootstrap starts");
    let (connection, _) = api.accept().expect("the runtime connects");
    let mut request_line = String::new();
    BufReader::new(&connection)
        .read_line(&mut request_line)
        .expect("a request");
    let elapsed = started.elapsed();
    assert!(
        request_line.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "the first request was {request_line:?}"
    );
    child.kill().expect("the bootstrap stops");
    child.wait().expect("and is reaped");
    elapsed
}

fn python_with_pillow() -> Duration {
    let started = Instant::now();
    let status = Command::new("python3")
        .args(["-c", "from PIL import Image"])
        .status()
        .expect("python3 starts");
    assert!(status.success(), "python3 cannot import Pillow");
    started.elapsed()
}
