//! Reloading without fear: `POST /reload` and SIGHUP read the configuration file again; a bad
//! file is refused with its message (HTTP 400, where YACE answers 200 and goes blind) and the
//! running configuration keeps serving.

use std::path::Path;

use devstack::{Exporter, Moto, http_get, http_post};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lambda.yml");

#[test]
fn a_bad_config_is_refused_with_its_message_and_the_running_one_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let config = dir.path().join("config.yml");
    let good = std::fs::read_to_string(EXAMPLE).unwrap();
    std::fs::write(&config, &good).unwrap();
    let exporter = Exporter::start(
        Path::new(env!("CARGO_BIN_EXE_exporter")),
        &config,
        &moto,
        300,
        dir.path(),
        None,
    )
    .unwrap();
    let url = |path: &str| format!("http://{}{path}", exporter.address());

    std::fs::write(&config, good.replacen("length: 60", "length: 30", 1)).unwrap();
    let (status, body) = http_post(&url("/reload")).unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body.starts_with("static[0].metrics[0].length: length (30) is smaller than period (60)"),
        "{body}"
    );
    assert!(body.trim_end().ends_with("(line 16)"), "{body}");
    assert_eq!(http_get(&url("/metrics"), &[]).unwrap().0, 200);

    // SIGHUP with the bad file is refused the same way; the process stays up.
    let status = std::process::Command::new("kill")
        .args(["-HUP", &exporter.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(http_get(&url("/healthz"), &[]).unwrap().0, 200);

    std::fs::write(&config, &good).unwrap();
    assert_eq!(
        http_post(&url("/reload")).unwrap(),
        (200, "reloaded\n".to_owned())
    );
    // As in YACE, only POST reloads.
    assert_eq!(http_get(&url("/reload"), &[]).unwrap().0, 404);
    assert!(
        exporter.log().contains("reload refused"),
        "{}",
        exporter.log()
    );
}
