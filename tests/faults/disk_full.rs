//! A full and a read-only data root, for real (issue 15, defects 1 and 5): the spacedav
//! binary on a small tmpfs. Filled over PUT and over tus, every refused write is 507 with a
//! body and leaves nothing half-visible; reads keep working; DELETE works while the disk is
//! full; once there is room again, PUT, MKCOL and tus work without a restart; `spacedav fsck`
//! is clean at the end.
//!
//! Needs root (mount), hence `#[ignore]`; `.ci/run` runs these with `--include-ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use spacedav::http::headers::DESTINATION;

use crate::binary::{ADMIN_PASSWORD, Server, personal_space_id, run, stdout};
use crate::common::client::Client as TypedClient;

const MIB: usize = 1 << 20;

/// A mount that is undone when the test ends, however it ends.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size_mib: usize) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        mount(
            &["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"],
            at,
        );
        Mount(at.to_path_buf())
    }

    /// `at` bind-mounted onto itself, so that it can be made read-only on its own.
    fn bind(at: &Path) -> Mount {
        mount(&["--bind", at.to_str().unwrap()], at);
        Mount(at.to_path_buf())
    }

    fn remount(&self, options: &str) {
        mount(&["-o", options], &self.0);
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) {
    let out = Command::new("mount").args(args).arg(at).output().unwrap();
    assert!(
        out.status.success(),
        "mount {args:?} {}: {} (these tests need root)",
        at.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The typed client of the server on `dir`'s data root, as admin, addressing names in the
/// personal space.
struct Client {
    admin: TypedClient,
    root: String,
}

impl Client {
    fn new(server: &Server, sid: &str) -> Client {
        let base = format!("http://{}", server.addr);
        Client {
            admin: TypedClient::new("admin", ADMIN_PASSWORD),
            root: format!("{base}/remote.php/dav/spaces/{sid}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.root)
    }

    fn req(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.admin.request(method, &self.url(path))
    }

    async fn r#move(&self, from: &str, to: &str) -> reqwest::Response {
        let req = self.req("MOVE", from).header(DESTINATION, self.url(to));
        req.send().await.unwrap()
    }

    async fn put(&self, name: &str, body: Vec<u8>) -> reqwest::Response {
        self.req("PUT", name).body(body).send().await.unwrap()
    }

    /// The names in the space root (PROPFIND depth 1).
    async fn listing(&self) -> String {
        let (status, body) = self.admin.propfind(&self.url(""), "1", "").await;
        assert_eq!(status, 207, "PROPFIND keeps working");
        body
    }

    /// A tus creation of `length` bytes named `name` (no body).
    async fn tus_create(&self, name: &str, length: usize) -> reqwest::Response {
        let meta = [("filename", name)];
        let req = self
            .admin
            .tus_create_request(&self.url(""), length as u64, &meta);
        req.send().await.unwrap()
    }

    async fn tus_patch(&self, location: &str, at: usize, body: Vec<u8>) -> reqwest::Response {
        let req = self.admin.tus_patch_request(location, at as u64, body);
        req.send().await.unwrap()
    }

    /// `Upload-Offset` of a HEAD.
    async fn tus_offset(&self, location: &str) -> usize {
        let head = self.admin.tus_head(location).await;
        assert_eq!(head.status, StatusCode::OK);
        head.offset.expect("Upload-Offset") as usize
    }

    /// A complete tus upload in one creation-with-upload request.
    async fn tus_upload(&self, name: &str, data: Vec<u8>) -> reqwest::Response {
        let req = self
            .admin
            .tus_upload_request(&self.url(""), data, &[("filename", name)]);
        req.send().await.unwrap()
    }

    async fn get(&self, name: &str) -> (StatusCode, Vec<u8>) {
        self.admin.get(&self.url(name)).await
    }
}

/// A 507 whose body tells the client why: Sabre XML on WebDAV, text on tus.
async fn assert_507_with_body(res: reqwest::Response, what: &str, sabre: bool) {
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE, "{what}");
    let body = res.text().await.unwrap();
    if sabre {
        assert!(
            body.contains("Sabre\\DAV\\Exception\\InsufficientStorage"),
            "{what}: {body}"
        );
    }
    assert!(
        body.to_lowercase().contains("insufficient storage"),
        "{what}: {body:?}"
    );
}

/// Write `path` until the file system has no byte left.
fn fill_to_the_last_byte(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    for size in [1 << 20, 4096, 1] {
        let chunk = vec![0u8; size];
        while file.write_all(&chunk).is_ok() {}
    }
    let _ = file.sync_all();
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    crate::support::bytes(n, seed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: mounts a tmpfs as the data root (.ci/run runs it)"]
async fn a_full_disk_is_507_and_writes_work_again_once_there_is_room_without_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("root");
    let _tmpfs = Mount::tmpfs(&dir, 64);
    // Every content in a blob (storage.inline_max_size = 0): the test fills the disk through
    // blob files and then needs the database itself to be out of room. With small contents
    // inline, where exactly the database runs out depends on the slack its WAL kept from
    // before the last checkpoint (a write that fits there is durable, not refused).
    let mut cmd = crate::binary::spacedav(&dir);
    cmd.env("SPACEDAV_STORAGE_INLINE_MAX_SIZE", "0");
    let server = Server::spawn(cmd);
    let sid = personal_space_id(&dir, "admin");
    let c = Client::new(&server, &sid);
    let kept = data(MIB, 1);

    // Fill over tus: 16 of an upload's 18 MiB.
    let tus = data(18 * MIB, 3);
    let created = c.tus_create("tus.bin", tus.len()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let res = c.tus_patch(&location, 0, tus[..16 * MIB].to_vec()).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Fill over PUT, 1 MiB at a time, until the disk refuses.
    let mut stored = Vec::new();
    let refused = loop {
        let name = format!("fill{}.bin", stored.len());
        let res = c.put(&name, kept.clone()).await;
        if res.status() != StatusCode::CREATED {
            break (name, res);
        }
        stored.push(name);
        assert!(
            stored.len() < 48,
            "a 64 MiB disk took {} MiB more",
            stored.len()
        );
    };
    assert!(stored.len() > 20, "filled after {} MiB", stored.len());
    assert_507_with_body(refused.1, "PUT on a full disk", true).await;
    // Smaller files take what is left, until even they are refused.
    for i in 0.. {
        let res = c.put(&format!("small{i}.bin"), data(64 << 10, 2)).await;
        if res.status() != StatusCode::CREATED {
            assert_507_with_body(res, "small PUT on a full disk", true).await;
            break;
        }
        stored.push(format!("small{i}.bin"));
    }
    let listing = c.listing().await;
    assert!(
        !listing.contains(&refused.0),
        "a refused PUT is not visible"
    );

    // The rest of the upload does not fit: 507, and the upload stays where it was.
    let res = c
        .tus_patch(&location, 16 * MIB, tus[16 * MIB..].to_vec())
        .await;
    assert_507_with_body(res, "tus PATCH on a full disk", false).await;
    assert_eq!(c.tus_offset(&location).await, 16 * MIB);
    assert!(
        !c.listing().await.contains("tus.bin"),
        "no partial tus file"
    );

    // The last bytes go to a file outside the data root: now not even the database can grow.
    let filler = dir.join("filler");
    fill_to_the_last_byte(&filler);
    let res = c.put("late.bin", data(1000, 4)).await;
    assert_507_with_body(res, "PUT on a disk full to the last byte", true).await;
    // The database may still have room inside its WAL file (frames a checkpoint copied out,
    // which the writer then starts over on): new folders land there, durable like any write,
    // until it is used up.
    let mut folders = 0;
    let refused_dir = loop {
        let name = format!("dir-on-full-disk-{folders}");
        let res = c.req("MKCOL", &name).send().await.unwrap();
        if res.status() != StatusCode::CREATED {
            assert_507_with_body(res, "MKCOL on a full disk", true).await;
            break name;
        }
        folders += 1;
        assert!(folders < 5000, "the database never ran out of room");
    };
    let res = c.r#move(&stored[5], "moved.bin").await;
    assert_507_with_body(res, "MOVE on a full disk", true).await;
    let res = c.tus_upload("late-tus.bin", data(1000, 5)).await;
    assert_507_with_body(res, "tus creation on a full disk", false).await;
    let listing = c.listing().await;
    for name in ["late.bin", &refused_dir, "moved.bin", "late-tus.bin"] {
        assert!(!listing.contains(name), "{name} is not visible");
    }

    // Reads keep working; DELETE works while the disk is full.
    assert_eq!(c.get(&stored[0]).await, (StatusCode::OK, kept.clone()));
    for name in stored.drain(..4) {
        let res = c.req("DELETE", &name).send().await.unwrap();
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "DELETE {name} on a full disk"
        );
    }
    // Space freed outside the server too, as an operator would.
    std::fs::remove_file(&filler).unwrap();

    // Room again: every write works, on the same process.
    let res = c.put("after.bin", kept.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "PUT after freeing space");
    let res = c.req("MKCOL", "after-dir").send().await.unwrap();
    let status = res.status();
    assert_eq!(status, StatusCode::CREATED, "MKCOL after freeing space");
    let res = c.r#move(&stored[1], "moved.bin").await;
    let status = res.status();
    assert_eq!(status, StatusCode::CREATED, "MOVE after freeing space");
    let at = c.tus_offset(&location).await;
    let res = c.tus_patch(&location, at, tus[at..].to_vec()).await;
    let status = res.status();
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "tus resumes after freeing space"
    );
    let res = c.tus_upload("late-tus.bin", data(1000, 5)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "tus creation after freeing space"
    );
    assert_eq!(c.get("tus.bin").await, (StatusCode::OK, tus));
    assert_eq!(c.get("after.bin").await, (StatusCode::OK, kept));

    assert!(server.terminate(), "graceful stop");
    let fsck = run(&dir, &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
    assert!(stdout(&fsck).contains(" 0 damaged"), "{}", stdout(&fsck));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: bind-mounts the blob store read-only (.ci/run runs it)"]
async fn a_read_only_blob_store_is_507_and_reads_keep_working() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("root");
    let _tmpfs = Mount::tmpfs(&dir, 64);
    let server = Server::start(&dir);
    let sid = personal_space_id(&dir, "admin");
    let c = Client::new(&server, &sid);
    let before = data(300_000, 4);
    assert_eq!(
        c.put("before.bin", before.clone()).await.status(),
        StatusCode::CREATED
    );

    let blobs = Mount::bind(&dir.join("data").join("blobs"));
    blobs.remount("remount,bind,ro");
    // Above storage.inline_max_size: these need the blob store.
    let res = c.put("ro.bin", data(100_000, 5)).await;
    assert_507_with_body(res, "PUT on a read-only blob store", true).await;
    let res = c.tus_upload("ro-tus.bin", data(100_000, 6)).await;
    assert_507_with_body(res, "tus on a read-only blob store", false).await;
    // A small content lives in the metadata database and does not need it.
    let small = data(1000, 7);
    assert_eq!(
        c.put("small.bin", small.clone()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(c.get("small.bin").await, (StatusCode::OK, small));
    assert_eq!(c.get("before.bin").await, (StatusCode::OK, before.clone()));
    let listing = c.listing().await;
    assert!(
        !listing.contains("ro.bin") && !listing.contains("ro-tus.bin"),
        "{listing}"
    );

    blobs.remount("remount,bind,rw");
    assert_eq!(
        c.put("ro.bin", data(100_000, 5)).await.status(),
        StatusCode::CREATED
    );
    let res = c.tus_upload("ro-tus.bin", data(100_000, 6)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    drop(blobs);
    assert!(server.terminate(), "graceful stop");
    let fsck = run(&dir, &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
}
