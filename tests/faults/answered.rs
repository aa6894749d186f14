//! SIGKILL right after a large write's answer (issue 13): the answer of a final tus PATCH or
//! of a PUT comes only once the bytes, their name and the commit that points at them are
//! durable, and the whole-file hashing of a multi-PATCH upload (which runs on while earlier
//! PATCHes are answered) is complete in that commit. After a restart the file is there, byte
//! for byte, with the SHA1, MD5 and ADLER32 of exactly those bytes.

use md5::{Digest, Md5};
use reqwest::StatusCode;
use sha1::Sha1;

use crate::binary::{ADMIN_PASSWORD, Server, create_upload, personal_space_id, run, stdout};
use crate::common::client::Client;
use crate::support::bytes;

const MIB: usize = 1 << 20;

/// The `oc:checksums` the file must record.
fn expected(data: &[u8]) -> [String; 3] {
    [
        format!("SHA1:{}", hex::encode(Sha1::digest(data))),
        format!("MD5:{}", hex::encode(Md5::digest(data))),
        format!("ADLER32:{:08x}", adler::adler32_slice(data)),
    ]
}

/// Restarts a server on `dir` and asserts the file `name` holds `data` with its checksums.
async fn assert_whole_after_restart(dir: &std::path::Path, sid: &str, name: &str, data: &[u8]) {
    let server = Server::start(dir);
    let admin = Client::new("admin", ADMIN_PASSWORD);
    let url = format!("{}/remote.php/dav/spaces/{sid}/{name}", server.base());
    let (status, got) = admin.get(&url).await;
    assert_eq!(status, StatusCode::OK, "{name} after the restart");
    assert!(
        got == data,
        "{name}: {} bytes after the restart, {} acknowledged",
        got.len(),
        data.len()
    );
    let (status, xml) = admin.propfind(&url, "0", "<oc:checksums/>").await;
    assert_eq!(status, 207, "{xml}");
    for sum in expected(data) {
        assert!(xml.contains(&sum), "{name}: {sum} missing in {xml}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_a_final_patchs_answer_leaves_the_file_whole_with_its_checksums() {
    let dir = tempfile::tempdir().unwrap();
    drop(Server::start(dir.path()));
    let sid = personal_space_id(dir.path(), "admin");
    let tus = Client::anonymous();
    // PATCHes of several MiB (hashed on the worker threads, each answered while its last
    // pieces are still being hashed), then a final PATCH of 1 MiB as the benchmark sends.
    let patches = [3 * MIB + 5, 2 * MIB - 1, 4 * MIB + 4097, MIB];
    let data = bytes(patches.iter().sum(), 11);
    let server = Server::start(dir.path());
    let path = create_upload(
        &server.addr,
        &sid,
        ("admin", ADMIN_PASSWORD),
        "answered.bin",
        data.len() as u64,
    )
    .await;
    let url = format!("{}{path}", server.base());
    let mut at = 0;
    for n in patches {
        let res = tus
            .tus_patch_request(&url, at as u64, data[at..at + n].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "PATCH at {at}");
        at += n;
    }
    drop(server); // SIGKILL, right after the final answer
    assert_whole_after_restart(dir.path(), &sid, "answered.bin", &data).await;
    let fsck = run(dir.path(), &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_a_puts_answer_leaves_the_file_whole_with_its_checksums() {
    let dir = tempfile::tempdir().unwrap();
    drop(Server::start(dir.path()));
    let sid = personal_space_id(dir.path(), "admin");
    let admin = Client::new("admin", ADMIN_PASSWORD);
    let data = bytes(5 * MIB + 4099, 12);
    let server = Server::start(dir.path());
    let url = format!("{}/remote.php/dav/spaces/{sid}/put.bin", server.base());
    let res = admin.put(&url, data.clone(), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    drop(server); // SIGKILL, right after the answer
    assert_whole_after_restart(dir.path(), &sid, "put.bin", &data).await;
    let fsck = run(dir.path(), &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
}
