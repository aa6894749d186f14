//! The `spacedav` binary's configuration and `serve` as an operator meets them: every problem
//! reported at start-up, the announced address, graceful shutdown on SIGTERM, logs.

mod binary;
mod common;

use std::process::Command;

use binary::{ADMIN_PASSWORD, Server, run, spacedav, stderr, stdout};
use common::client::Client;

#[test]
fn invalid_config_exits_nonzero_and_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\npublic_url = \"htp//nowhere\"\ncolour = \"blue\"\n\
         [tus]\nmax_upload_size = -5\n",
    )
    .unwrap();
    let out = run(dir.path(), &["serve", "--config", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("invalid configuration (3 problems)"), "{err}");
    for key in ["server.public_url", "server.colour", "tus.max_upload_size"] {
        assert!(err.contains(key), "stderr does not name {key}: {err}");
    }
    assert!(err.contains("unknown key"), "{err}");
    assert!(err.contains("must be greater than zero"), "{err}");
    assert!(stdout(&out).is_empty(), "nothing was served");
}

#[test]
fn bad_flag_and_env_values_are_reported_with_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    let out = spacedav(dir.path())
        .env("SPACEDAV_TUS_MAX_CHUNK_SIZE", "0")
        .args(["--listen", "localhost"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("server.listen = \"localhost\" (flag --listen)"),
        "{err}"
    );
    assert!(err.contains("(env SPACEDAV_TUS_MAX_CHUNK_SIZE)"), "{err}");
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--config", "nope.toml"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nope.toml"), "{}", stderr(&out));
}

#[tokio::test]
async fn serve_announces_its_address_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
    assert!(!server.addr.ends_with(":0"), "the bound port is printed");
    let url = format!("http://{}/status.php", server.addr);
    let res = reqwest::Client::new()
        .get(&url)
        .header("X-Request-ID", "smoke-test-1")
        .send()
        .await
        .unwrap();
    // The request went through spacedav's own middleware, not just any listener.
    assert_eq!(res.headers()["x-request-id"], "smoke-test-1");
    let status: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status["installed"], true);
    assert_eq!(status["productname"], "spacedav");
    assert!(server.terminate(), "graceful exit on SIGTERM");
}

#[test]
fn first_start_creates_admin_once_with_a_random_password() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let mut cmd = spacedav(dir.path());
        cmd.env_remove("SPACEDAV_ADMIN_PASSWORD");
        Server::spawn(cmd)
    };
    let first = start();
    let password = first
        .stdout
        .iter()
        .filter(|l| l.contains("admin"))
        .find_map(|l| {
            l.split_once("with password ")
                .map(|(_, p)| p.trim().to_string())
        })
        .expect("first start prints the admin password");
    assert!(password.len() >= 16, "{password}");
    assert!(first.terminate());
    let second = start();
    assert!(second.stdout.iter().all(|l| !l.contains(&password)));
    assert!(second.terminate());
}

#[test]
fn config_spacedav_toml_in_the_working_directory_is_read_by_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/spacedav.toml"),
        "[log]\nformat = \"xml\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("log.format = \"xml\" (file config/spacedav.toml)"),
        "{err}"
    );
}

#[test]
fn json_logs_go_to_stderr_and_never_contain_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "transfer-secret-that-must-not-leak";
    let mut cmd = spacedav(dir.path());
    cmd.env("SPACEDAV_TUS_TRANSFER_SECRET", secret)
        .env("RUST_LOG", "debug")
        .args(["--log-format", "json"]);
    let server = Server::spawn_logged(cmd);
    let (stopped, logs) = server.terminate_with_log();
    assert!(stopped);
    assert!(!logs.is_empty());
    for l in logs.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string(), "{l}");
    }
    assert!(!logs.contains(secret));
    assert!(!logs.contains(ADMIN_PASSWORD));
}

/// Total bytes of the files under `dir`, recursively.
fn bytes_under(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => bytes_under(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_patch_finish_and_the_upload_resumes_after_restart() {
    // The first part is larger than the server's read batch plus its write buffer (1 MiB each),
    // so some of it must reach the staging file while the request is still open.
    const FIRST: usize = 4 << 20;
    const SECOND: usize = 1 << 20;
    const TOTAL: usize = 8 << 20;
    let dir = tempfile::tempdir().unwrap();
    let sid = binary::personal_space_id(dir.path(), "admin");
    let admin = ("admin", ADMIN_PASSWORD);
    let server = Server::start(dir.path());
    let data = binary::create_upload(&server.addr, &sid, admin, "big.bin", TOTAL as u64).await;

    // A PATCH whose body we feed by hand: the first half now, the rest after SIGTERM.
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let client = Client::new(admin.0, admin.1);
    let patch = client
        .tus_patch_request(&format!("http://{}{data}", server.addr), 0, Vec::new())
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let patch = tokio::spawn(patch);
    tx.send(vec![b'a'; FIRST]).await.unwrap();
    // Bytes on disk prove the handler is running before the signal goes out.
    let blobs = dir.path().join("data/blobs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while bytes_under(&blobs) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no bytes reached the staging blob"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tx.send(vec![b'a'; SECOND]).await.unwrap();
    drop(tx);
    let res = patch.await.unwrap().unwrap();
    assert_eq!(res.status(), 204, "the in-flight PATCH finishes");
    let sent = FIRST + SECOND;
    assert_eq!(res.headers()["upload-offset"], sent.to_string().as_str());
    assert!(server.terminate_wait(), "exits cleanly after the request");

    let server = Server::start(dir.path());
    let url = format!("http://{}{data}", server.addr);
    assert_eq!(client.tus_head(&url).await.offset, Some(sent as u64));
    let rest = client
        .tus_patch(&url, sent as u64, vec![b'b'; TOTAL - sent])
        .await;
    assert_eq!(rest.status, 204);
    assert_eq!(rest.offset, Some(TOTAL as u64));
    assert!(server.terminate());
}

#[test]
fn check_config_prints_the_effective_config_with_origins_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("good.toml");
    std::fs::write(
        &path,
        "[tus]\nmax_chunk_size = 4096\n[metrics]\ntoken = \"scrape-token-0123456789\"\n",
    )
    .unwrap();
    let out = spacedav(dir.path())
        .env("SPACEDAV_LOG_FORMAT", "json")
        .args(["check-config", "--config", path.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:7070"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "listen = \"127.0.0.1:7070\"  # flag --listen",
        &format!("max_chunk_size = 4096  # file {}", path.display()),
        "format = \"json\"  # env SPACEDAV_LOG_FORMAT",
        "password = \"<redacted>\"  # env SPACEDAV_ADMIN_PASSWORD",
        "token = \"<redacted>\"  # file",
        "# storage_id = (generated on first start)",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    assert!(
        !text.contains(ADMIN_PASSWORD) && !text.contains("scrape-token"),
        "{text}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "check-config created the data root"
    );
}

#[test]
fn check_config_reports_every_problem_with_its_origin_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\ncolour = \"blue\"\n[metrics]\ntoken = \"short\"\n",
    )
    .unwrap();
    let out = spacedav(dir.path())
        .env("SPACEDAV_TUS_UPLOAD_EXPIRY", "soon")
        .args(["check-config", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid configuration (3 problems)"), "{err}");
    let file = format!("(file {})", path.display());
    assert!(
        err.contains(&format!("server.colour = \"blue\" {file}: unknown key")),
        "{err}"
    );
    assert!(
        err.contains(&format!("metrics.token = <redacted> {file}: too short")),
        "{err}"
    );
    assert!(
        err.contains("tus.upload_expiry = \"soon\" (env SPACEDAV_TUS_UPLOAD_EXPIRY)"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(!err.contains("short\""), "secrets are not echoed: {err}");
}
