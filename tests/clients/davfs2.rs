//! davfs2 (Debian 1.6): mount the personal space through FUSE, copy a tree in, unmount
//! (which waits for the uploads), remount with an empty cache and read everything back, then
//! rename, delete and append (clients.md §5, issue 5 item 5). Needs root and `/dev/fuse`;
//! when the kernel refuses the mount the failure says so.
//!
//! `buf_size 64` works around davfs2's EINVAL on directory reads with Linux ≥ 6.16.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{bin, fixture_tree, local_tree, write_file};

const LIMIT: Duration = Duration::from_secs(120);

/// Runs a mount helper with its output in files: mount.davfs leaves a daemon behind that
/// would hold captured pipes open.
async fn helper(cmd: &mut Command, logs: &Path) -> Result<(), String> {
    let out = std::fs::File::create(logs.join("out.log")).expect("log");
    let err = std::fs::File::create(logs.join("err.log")).expect("log");
    let shown = format!("{cmd:?}");
    let status = tokio::time::timeout(
        LIMIT,
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .status(),
    )
    .await
    .unwrap_or_else(|_| panic!("{shown} did not finish within {LIMIT:?}"))
    .expect("run mount helper");
    let text = std::fs::read_to_string(logs.join("out.log")).unwrap_or_default()
        + &std::fs::read_to_string(logs.join("err.log")).unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown}: {status}\n{text}"))
    }
}

/// A davfs2 mount point that is unmounted (lazily) if the test fails half-way.
struct Mount {
    dir: PathBuf,
    mounted: bool,
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.dir)
                .status();
        }
    }
}

struct Davfs {
    mount_davfs: PathBuf,
    url: String,
    work: tempfile::TempDir,
    mnt: Mount,
    caches: u32,
}

impl Davfs {
    /// Mounts with a fresh, empty cache (so reads really come from the server).
    async fn mount(&mut self) {
        self.caches += 1;
        let w = self.work.path();
        let cache = w.join(format!("cache{}", self.caches));
        std::fs::create_dir(&cache).expect("cache dir");
        // The daemon runs as user davfs2: it must be able to reach and write its cache.
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let conf = w.join("davfs2.conf");
        std::fs::write(
            &conf,
            format!(
                "secrets {}\ncache_dir {}\nask_auth 0\nuse_locks 1\ndelay_upload 0\nbuf_size 64\n",
                w.join("secrets").display(),
                cache.display()
            ),
        )
        .expect("conf");
        let res = helper(
            Command::new(&self.mount_davfs)
                .arg(&self.url)
                .arg(&self.mnt.dir)
                .arg("-o")
                .arg(format!("conf={}", conf.display())),
            w,
        )
        .await;
        if let Err(e) = res {
            panic!(
                "mount.davfs failed. If the message below is a kernel/FUSE refusal \
                 (\"Operation not permitted\", \"fuse\", \"can't mount\"), this machine cannot \
                 run the davfs2 test, which is not a server bug:\n{e}"
            );
        }
        self.mnt.mounted = true;
    }

    /// Unmounts; davfs2 uploads what is still cached first.
    async fn umount(&mut self) {
        helper(Command::new("umount").arg(&self.mnt.dir), self.work.path())
            .await
            .unwrap_or_else(|e| panic!("umount failed:\n{e}"));
        self.mnt.mounted = false;
    }
}

/// Runs file-system work on the mount off the runtime's threads.
async fn on_mount<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("mount I/O task")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy into the mount");
        }
    }
}

// The server runs in this process: file-system calls on the mount block until davfs2 has
// talked to it, so they run on blocking threads while the runtime keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "real client: needs davfs2 and root (mount); .ci/run runs it with --include-ignored"]
async fn davfs2_mount_copies_a_tree_in_and_reads_it_back_after_remount() {
    let mount_davfs = require!("davfs2 (mount.davfs)", bin("mount.davfs"));
    let root_ok = std::fs::metadata("/dev/fuse").is_ok()
        && std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        });
    assert!(
        root_ok,
        "davfs2 needs root and /dev/fuse, which this machine lacks"
    );
    let srv = TestServer::start().await;
    let root = srv.root(Root::Files);
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let secrets = work.path().join("secrets");
    std::fs::write(&secrets, format!("{root} {} {}\n", ADMIN, ADMIN_PASSWORD)).expect("secrets");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mnt = work.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mnt");
    let src = work.path().join("src");
    fixture_tree(&src);
    let mut fs = Davfs {
        mount_davfs,
        url: root.clone(),
        mnt: Mount {
            dir: mnt.clone(),
            mounted: false,
        },
        work,
        caches: 0,
    };

    fs.mount().await;
    let (s, m) = (src.clone(), mnt.clone());
    on_mount(move || copy_tree(&s, &m.join("davfs"))).await;
    let m = mnt.clone();
    let listed = on_mount(move || local_tree(&m.join("davfs"))).await;
    assert_eq!(listed, local_tree(&src), "listing in the mount");
    fs.umount().await;
    let dav = Dav::admin();
    assert_eq!(
        dav.content_tree(&format!("{root}davfs/")).await,
        local_tree(&src),
        "what the server stored"
    );

    fs.mount().await;
    let m = mnt.clone();
    let listed = on_mount(move || local_tree(&m.join("davfs"))).await;
    assert_eq!(listed, local_tree(&src), "read back after remount");
    let m = mnt.clone();
    on_mount(move || {
        use std::io::Write;
        let d = m.join("davfs");
        std::fs::rename(d.join("hello.txt"), d.join("renamed.txt")).expect("rename");
        std::fs::remove_file(d.join("a/sibling.md")).expect("delete");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(d.join("a/b/c/deep.txt"))
            .expect("open for append");
        f.write_all(b"appended\n").expect("append");
    })
    .await;
    fs.umount().await;
    std::fs::rename(src.join("hello.txt"), src.join("renamed.txt")).expect("rename");
    std::fs::remove_file(src.join("a/sibling.md")).expect("delete");
    write_file(&src, "a/b/c/deep.txt", b"three folders deep\nappended\n", 0);
    assert_eq!(
        dav.content_tree(&format!("{root}davfs/")).await,
        local_tree(&src),
        "server after rename, delete, append"
    );

    fs.mount().await;
    let m = mnt.clone();
    let listed = on_mount(move || local_tree(&m.join("davfs"))).await;
    assert_eq!(listed, local_tree(&src), "read back after changes");
    fs.umount().await;
}
