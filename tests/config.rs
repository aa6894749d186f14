//! The `spacedav` binary as an operator meets it: configuration errors at start-up, the
//! announced address, graceful shutdown on SIGTERM, and the admin subcommands.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The binary with a clean environment, run in `dir` so no repository config file is picked up.
fn spacedav(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spacedav"));
    cmd.env_clear()
        .current_dir(dir)
        .env("SPACEDAV_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .arg("--data-root")
        .arg(dir.join("data"));
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    spacedav(dir).args(args).output().expect("binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

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

/// A running `spacedav serve`; killed on drop if a test fails before stopping it.
struct Server {
    child: Child,
    addr: String,
    stdout: Vec<String>,
}

impl Server {
    /// Starts `spacedav serve --listen 127.0.0.1:0` in `dir` and reads stdout up to the
    /// announced address.
    fn start(dir: &Path) -> Server {
        Server::spawn(spacedav(dir))
    }

    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = Vec::new();
        let addr = loop {
            let line = lines
                .next()
                .expect("server announces its address before closing stdout")
                .unwrap();
            if let Some(addr) = line.strip_prefix("spacedav listening on http://") {
                break addr.to_string();
            }
            stdout.push(line);
        };
        Server {
            child,
            addr,
            stdout,
        }
    }

    /// Sends SIGTERM and waits; true if the process exited successfully.
    fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        self.child.wait().unwrap().success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
fn users_can_be_added_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut add = spacedav(dir.path())
        .args([
            "user",
            "add",
            "alice",
            "--password-stdin",
            "--display-name",
            "Alice A",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"alice-secret\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created user alice"));
    assert!(!stdout(&out).contains("alice-secret"));

    let list = stdout(&run(dir.path(), &["user", "list"]));
    assert!(list.contains("\talice\tuser\tAlice A\t"), "{list}");

    let dup = run(dir.path(), &["user", "add", "alice", "--password", "x"]);
    assert!(!dup.status.success(), "a second alice is refused");

    assert!(
        run(dir.path(), &["user", "remove", "alice"])
            .status
            .success()
    );
    let list = stdout(&run(dir.path(), &["user", "list"]));
    assert!(!list.contains("alice"), "{list}");
    assert!(
        !run(dir.path(), &["user", "remove", "alice"])
            .status
            .success()
    );
}

#[test]
fn project_spaces_can_be_created_resized_and_shared() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let out = run(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    ok(&["user", "add", "bob", "--password", "bob-password"]);
    let created = ok(&["space", "create", "Team Docs", "--quota", "1000"]);
    assert!(created.starts_with("created space project/"), "{created}");

    let list = ok(&["space", "list"]);
    let row = list
        .lines()
        .find(|l| l.contains("\tTeam Docs\t"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        row.contains("\tproject\t") && row.ends_with("quota 1000"),
        "{row}"
    );
    assert!(list.contains("\tpersonal\tpersonal/bob\t"), "{list}");

    ok(&["space", "quota", "Team Docs", "unlimited"]);
    assert!(ok(&["space", "list"]).contains("\tTeam Docs\tquota unlimited"));

    let members = ok(&["space", "members", "Team Docs", "--add", "bob:editor"]);
    assert!(members.lines().any(|l| l == "bob\teditor"), "{members}");
    let members = ok(&["space", "members", "Team Docs", "--remove", "bob"]);
    assert!(!members.contains("bob"), "{members}");

    let missing = run(dir.path(), &["space", "quota", "No Such Space", "1"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("No Such Space"));
}

#[test]
fn fsck_of_an_empty_data_root_finds_nothing_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["fsck"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 damaged"), "{}", stdout(&out));
}

#[test]
fn issued_tokens_verify_with_the_persisted_token_secret() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["token", "issue", "--user", "admin", "--ttl", "600"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    // A second process reads the key the first one generated and persisted.
    let secret = std::fs::read_to_string(dir.path().join("data/secrets/token.key")).unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[spacedav::auth::TOKEN_AUDIENCE]);
    let claims = jsonwebtoken::decode::<spacedav::auth::Claims>(
        &token,
        &DecodingKey::from_secret(secret.trim().as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims.exp - claims.iat, 600);
    let users = stdout(&run(dir.path(), &["user", "list"]));
    assert!(
        users.starts_with(&format!("{}\tadmin\t", claims.sub)),
        "{users}"
    );
    let unknown = run(dir.path(), &["token", "issue", "--user", "nobody"]);
    assert!(!unknown.status.success());
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

/// `GET /ocs/v1.php/cloud/user?format=json` with `auth` applied; the status and the user id.
async fn cloud_user(
    addr: &str,
    auth: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> (u16, String) {
    let url = format!("http://{addr}/ocs/v1.php/cloud/user?format=json");
    let res = auth(reqwest::Client::new().get(url)).send().await.unwrap();
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let id = body["ocs"]["data"]["id"].as_str().unwrap_or_default();
    (status, id.to_string())
}

#[tokio::test]
async fn passwords_and_tokens_from_the_cli_authenticate_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let add = run(
        dir.path(),
        &["user", "add", "carol", "--password", "carol-old-pass"],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let passwd = run(
        dir.path(),
        &["user", "passwd", "carol", "--password", "carol-new-pass"],
    );
    assert!(passwd.status.success(), "{}", stderr(&passwd));
    let token = stdout(&run(dir.path(), &["token", "issue", "--user", "carol"]));
    let server = Server::start(dir.path());
    let basic = |p: &'static str| move |r: reqwest::RequestBuilder| r.basic_auth("carol", Some(p));
    assert_eq!(
        cloud_user(&server.addr, basic("carol-old-pass")).await.0,
        401
    );
    assert_eq!(
        cloud_user(&server.addr, basic("carol-new-pass")).await,
        (200, "carol".to_string())
    );
    let bearer = |r: reqwest::RequestBuilder| r.bearer_auth(token.trim());
    assert_eq!(
        cloud_user(&server.addr, bearer).await,
        (200, "carol".to_string())
    );
    assert!(server.terminate());
}

#[test]
fn uploads_of_a_fresh_data_root_list_nothing_and_clean_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let list = run(dir.path(), &["uploads", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list), "");
    let clean = run(dir.path(), &["uploads", "clean"]);
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert_eq!(stdout(&clean), "removed 0 expired uploads\n");
}
