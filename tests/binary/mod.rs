//! The out-of-process server, for the tests that kill, signal or restart a real process (the
//! in-process one is `tests/common`'s `TestServer`): the real `spacedav` binary with a clean
//! environment, a temp working directory (so no repository config file is picked up) and its
//! own data root; `Server` is a running `spacedav serve` whose announced address has been read.
//! It shares the admin password and the typed client with `tests/common`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `admin`'s password in every data root these helpers create (the in-process server's).
pub use crate::common::ADMIN_PASSWORD;
use crate::common::client::Client;

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

    /// Starts `cmd` (the binary, possibly wrapped) as `serve --listen 127.0.0.1:0`; its log
    /// is dropped.
    pub fn spawn(cmd: Command) -> Server {
        Server::spawn_with_stderr(cmd, Stdio::null())
    }

    /// [`Server::spawn`] keeping the log (stderr) for [`Server::terminate_with_log`].
    pub fn spawn_logged(cmd: Command) -> Server {
        Server::spawn_with_stderr(cmd, Stdio::piped())
    }

    fn spawn_with_stderr(mut cmd: Command, log: Stdio) -> Server {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
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

    /// `http://IP:PORT` (no trailing slash).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits for the process (already signalled); true if it exited successfully.
    pub fn terminate_wait(mut self) -> bool {
        self.child.wait().unwrap().success()
    }

    /// Sends SIGTERM and waits; true if the process exited successfully.
    pub fn terminate(mut self) -> bool {
        self.sigterm();
        self.child.wait().unwrap().success()
    }

    /// Sends SIGTERM and waits; whether the process exited successfully, and its log (of a
    /// server started with [`Server::spawn_logged`]).
    pub fn terminate_with_log(mut self) -> (bool, String) {
        use std::io::Read;
        self.sigterm();
        let mut log = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut log).unwrap();
        }
        (self.child.wait().unwrap().success(), log)
    }

    fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
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
    let folder = format!("http://{addr}/remote.php/dav/spaces/{sid}/");
    let created = Client::new(user, password)
        .tus_create(&folder, length, &[("filename", name)])
        .await;
    assert_eq!(created.status, 201, "tus creation");
    let location = created.location();
    let at = location.find("/data/").expect("Location names /data/");
    location[at..].to_string()
}
