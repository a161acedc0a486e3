//! The guarded endpoint and readiness, on the exporter binary as users run it: TLS, client
//! certificates, basic auth, extra headers and a rate limit from a web configuration file in
//! the exporters' format (checked by `promtool check web-config` too, so the format is the
//! toolkit's), a file changed while running, a bad file refused at start-up with its key path
//! and line, and `/ready` that waits for the first scrape. The client is curl, which speaks
//! TLS and basic auth as a scraper would. The certificates in `tests/web/` are test-only,
//! issued by a throwaway CA for localhost until 2126.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use devstack::process::Process;
use devstack::{Moto, free_port, http_get};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lambda.yml");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web");
/// bcrypt hashes (cost 10) of "s3cret" and "other".
const S3CRET: &str = "$2b$10$oj5R7sa0yriLbCu/BAUGi.6y3ogqQUH5wzOLBlt7BnTd/GEI4EFRO";
const OTHER: &str = "$2b$10$Azx5/DmBd37SHB45pp6aAOgKELBLbcnog0BdAKx6MMM15tonJ0.F.";

/// The exporter binary on a free port with `web_config`, pointed at `aws_endpoint`.
fn exporter(dir: &Path, web_config: Option<&Path>, env: Vec<(&str, String)>) -> (Process, String) {
    let address = format!("127.0.0.1:{}", free_port(None).unwrap());
    let mut command = Command::new(env!("CARGO_BIN_EXE_exporter"));
    command
        .args(["-config.file", EXAMPLE, "-listen-address", &address])
        .args([
            "-scraping-interval",
            "300",
            "-log.format",
            "logfmt",
            "-aws.timeout",
            "2",
        ])
        .envs(env);
    if let Some(web_config) = web_config {
        command.arg("-web.config.file").arg(web_config);
    }
    (Process::spawn("exporter", command, dir).unwrap(), address)
}

/// curl's status code for `url` with `args`, or None when no HTTP answer came (a refused
/// TLS handshake), and the response headers and body.
fn curl(url: &str, args: &[&str]) -> (Option<u16>, String) {
    let output = Command::new("curl")
        .args(["--silent", "--include", "--max-time", "5"])
        .args(["--cacert", &format!("{FIXTURES}/ca.pem")])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let status = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok());
    (status, text)
}

/// Waits until `url` answers anything over HTTP(S).
fn wait_until_serving(process: &mut Process, url: &str, args: &[&str]) {
    let start = Instant::now();
    while curl(url, args).0.is_none() {
        if let Some(status) = process.exited().unwrap() {
            panic!("exporter exited ({status}):\n{}", process.log());
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            process.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn port(address: &str) -> &str {
    address.rsplit(':').next().unwrap()
}

fn web_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("web.yml");
    std::fs::write(&path, text).unwrap();
    path
}

fn tls_section(extra: &str) -> String {
    format!(
        "tls_server_config:\n  cert_file: {FIXTURES}/server.pem\n  key_file: {FIXTURES}/server-key.pem\n{extra}"
    )
}

#[test]
fn tls_and_basic_auth_guard_every_path_and_follow_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let file = web_config(
        dir.path(),
        &format!(
            "{}http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
             basic_auth_users:\n  alice: {S3CRET}\n",
            tls_section("")
        ),
    );
    let promtool = Command::new("promtool")
        .args(["check", "web-config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(promtool.status.success(), "{promtool:?}");

    let (mut process, address) = exporter(dir.path(), Some(&file), moto.aws_env());
    let https = |path: &str| format!("https://localhost:{}{path}", port(&address));
    wait_until_serving(&mut process, &https("/healthz"), &[]);

    for path in ["/metrics", "/healthz", "/ready", "/"] {
        let (status, text) = curl(&https(path), &[]);
        assert_eq!(status, Some(401), "{path}: {text}");
        assert!(
            text.contains("www-authenticate: Basic realm=\"exporter\""),
            "{text}"
        );
        assert!(text.contains("x-frame-options: deny"), "{text}");
    }
    assert_eq!(
        curl(&https("/metrics"), &["-u", "alice:wrong"]).0,
        Some(401)
    );
    assert_eq!(
        curl(&https("/metrics"), &["-u", "mallory:s3cret"]).0,
        Some(401)
    );
    let (status, text) = curl(&https("/metrics"), &["-u", "alice:s3cret"]);
    assert_eq!(status, Some(200), "{text}");
    assert!(text.contains("yace_cloudwatch_requests_total"), "{text}");
    // The second request is answered from the cache of verified passwords, the same way.
    assert_eq!(
        curl(&https("/healthz"), &["-u", "alice:s3cret"]).0,
        Some(200)
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    assert_eq!(curl(&format!("http://{address}/healthz"), &[]).0, None);

    // A new user in the file takes effect on the next connection, without a restart; a file
    // that turns bad keeps the last good settings.
    std::fs::write(
        &file,
        format!("{}basic_auth_users:\n  bob: {OTHER}\n", tls_section("")),
    )
    .unwrap();
    assert_eq!(curl(&https("/healthz"), &["-u", "bob:other"]).0, Some(200));
    assert_eq!(
        curl(&https("/healthz"), &["-u", "alice:s3cret"]).0,
        Some(401)
    );
    std::fs::write(&file, "basic_auth_users:\n  bob: plain-text\n").unwrap();
    assert_eq!(curl(&https("/healthz"), &["-u", "bob:other"]).0, Some(200));
    assert!(
        process.log().contains("web configuration refused"),
        "{}",
        process.log()
    );
}

#[test]
fn a_required_client_certificate_is_checked_against_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let file = web_config(
        dir.path(),
        &tls_section(&format!(
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {FIXTURES}/ca.pem\n  \
             min_version: TLS13\n"
        )),
    );
    let client = [
        "--cert",
        &format!("{FIXTURES}/client.pem"),
        "--key",
        &format!("{FIXTURES}/client-key.pem"),
    ]
    .map(String::from);
    let client: Vec<&str> = client.iter().map(String::as_str).collect();
    let (mut process, address) = exporter(dir.path(), Some(&file), moto.aws_env());
    let url = format!("https://localhost:{}/healthz", port(&address));
    wait_until_serving(&mut process, &url, &client);

    assert_eq!(curl(&url, &client).0, Some(200));
    assert_eq!(curl(&url, &[]).0, None, "no certificate, no answer");
    // A TLS 1.2 client is below min_version.
    assert_eq!(
        curl(&url, &[&client[..], &["--tls-max", "1.2"]].concat()).0,
        None
    );
}

#[test]
fn the_rate_limit_answers_429_past_its_burst() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let file = web_config(dir.path(), "rate_limit:\n  interval: 1m\n  burst: 3\n");
    let (mut process, address) = exporter(dir.path(), Some(&file), moto.aws_env());
    let url = format!("http://{address}/healthz");
    // Waiting spends the first token.
    wait_until_serving(&mut process, &url, &[]);
    assert_eq!(curl(&url, &[]).0, Some(200));
    assert_eq!(curl(&url, &[]).0, Some(200));
    assert_eq!(curl(&url, &[]).0, Some(429));
}

#[test]
fn a_bad_web_config_stops_the_start_with_its_key_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = web_config(
        dir.path(),
        &tls_section("  client_auth_type: RequireAnyClientCert\n"),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_exporter"))
        .args(["-config.file", EXAMPLE, "-listen-address", "127.0.0.1:0"])
        .arg("-web.config.file")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("tls_server_config.client_auth_type: accepts certificates without verifying")
            && stderr.contains("(line 4)"),
        "{stderr}"
    );
}

#[test]
fn ready_answers_503_until_the_first_scrape_has_finished() {
    let dir = tempfile::tempdir().unwrap();
    // An AWS endpoint that takes connections and never answers: the first scrape lasts
    // until its requests time out (-aws.timeout 2, one retry each).
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let env = vec![
        (
            "AWS_ENDPOINT_URL",
            format!("http://{}", black_hole.local_addr().unwrap()),
        ),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    let (mut process, address) = exporter(dir.path(), None, env);
    let url = |path: &str| format!("http://{address}{path}");
    process
        .wait_for_http(&url("/healthz"), Duration::from_secs(30))
        .unwrap();
    let (status, body) = http_get(&url("/ready"), &[]).unwrap();
    assert_eq!(
        (status, body.as_str()),
        (503, "waiting for the first scrape to finish\n")
    );
    let start = Instant::now();
    while http_get(&url("/ready"), &[]).unwrap().0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            process.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(http_get(&url("/healthz"), &[]).unwrap().0, 200);
}

#[test]
fn metrics_are_gzipped_for_a_scraper_that_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let (mut process, address) = exporter(dir.path(), None, moto.aws_env());
    let url = format!("http://{address}/metrics");
    wait_until_serving(&mut process, &url, &[]);
    // curl --compressed asks for gzip (among others) and decodes what comes back.
    let (status, zipped) = curl(&url, &["--compressed"]);
    assert_eq!(status, Some(200), "{zipped}");
    assert!(zipped.contains("content-encoding: gzip"), "{zipped}");
    assert!(
        zipped.contains("yace_cloudwatch_requests_total"),
        "{zipped}"
    );
    let (_, plain) = curl(&url, &[]);
    assert!(!plain.contains("content-encoding"), "{plain}");
    assert!(plain.contains("yace_cloudwatch_requests_total"), "{plain}");
}
