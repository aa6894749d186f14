//! Running the real `spacedav` binary: a clean environment, a temp working directory (so no
//! repository config file is picked up) and its own data root; `Server` is a running
//! `spacedav serve` whose announced address has been read.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use spacedav::tus::headers::{TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, VERSION};

/// `admin`'s password in every data root these helpers create.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The binary with a clean environment, run in `dir` so no repository config file is picked up.
pub fn spacedav(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spacedav"));
    cmd.env_clear()
        .current_dir(dir)
        .env("SPACEDAV_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .arg("--data-root")
        .arg(dir.join("data"));
    cmd
}

/// Runs the binary with `args` to completion.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    spacedav(dir).args(args).output().expect("binary runs")
}

/// Captured stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Captured stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `spacedav serve`; killed on drop if a test fails before stopping it.
pub struct Server {
    /// The process.
    pub child: Child,
    /// The announced `IP:PORT`.
    pub addr: String,
    /// Lines printed before the address (e.g. the first-start admin password).
    pub stdout: Vec<String>,
}

impl Server {
    /// Starts `spacedav serve --listen 127.0.0.1:0` in `dir` and reads stdout up to the
    /// announced address.
    pub fn start(dir: &Path) -> Server {
        Server::spawn(spacedav(dir))
    }

    pub fn spawn(mut cmd: Command) -> Server {
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

    /// Waits for the process (already signalled); true if it exited successfully.
    pub fn terminate_wait(mut self) -> bool {
        self.child.wait().unwrap().success()
    }

    /// Sends SIGTERM and waits; true if the process exited successfully.
    pub fn terminate(mut self) -> bool {
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

/// The space id of `user`'s personal space, from `spacedav space list`.
pub fn personal_space_id(dir: &Path, user: &str) -> String {
    let list = stdout(&run(dir, &["space", "list"]));
    list.lines()
        .find(|l| l.contains(&format!("\tpersonal\tpersonal/{user}\t")))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no personal space of {user}: {list}"))
        .to_string()
}

/// Creates a tus upload of `length` bytes named `name` in the root of `user`'s personal
/// space (password `password`) on the server at `addr`; returns the `/data/...` path.
pub async fn create_upload(
    addr: &str,
    sid: &str,
    (user, password): (&str, &str),
    name: &str,
    length: u64,
) -> String {
    use base64::Engine;
    let filename = base64::engine::general_purpose::STANDARD.encode(name);
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/remote.php/dav/spaces/{sid}/"))
        .basic_auth(user, Some(password))
        .header(TUS_RESUMABLE, VERSION)
        .header(UPLOAD_LENGTH, length.to_string())
        .header(UPLOAD_METADATA, format!("filename {filename}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let at = location.find("/data/").expect("Location names /data/");
    location[at..].to_string()
}
