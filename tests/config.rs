//! The `spacedav` binary's configuration and `serve` as an operator meets them: every problem
//! reported at start-up, the announced address, graceful shutdown on SIGTERM, logs.

mod binary;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use binary::{ADMIN_PASSWORD, Server, run, spacedav, stderr, stdout};

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
    let mut child = spacedav(dir.path())
        .env("SPACEDAV_TUS_TRANSFER_SECRET", secret)
        .env("RUST_LOG", "debug")
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("spacedav listening on http://"), "{line}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let logs = stderr(&out);
    assert!(!logs.is_empty());
    for l in logs.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string(), "{l}");
    }
    assert!(!logs.contains(secret));
    assert!(!logs.contains(ADMIN_PASSWORD));
}
