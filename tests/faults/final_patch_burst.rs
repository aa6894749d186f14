//! SIGKILL in the middle of a burst of small uploads (issue 13): many concurrent
//! creation-with-upload requests, each completing a file in its own request, share group
//! commits. Whatever the moment of the kill, every upload the server acknowledged is there
//! after a restart with its content and its checksums, no other upload is half visible, and
//! `spacedav fsck` is clean.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;

use crate::binary::{ADMIN_PASSWORD, Server, personal_space_id, run, stdout};
use crate::common::client::Client;
use crate::support::{bytes, sha1_hex};

/// Rounds, as CI runs them: each kills the server at a different point of a burst.
const ROUNDS: usize = 20;
/// Concurrent uploaders.
const WRITERS: usize = 8;
/// Size of each upload.
const SIZE: usize = 16 << 10;
/// The longest the test waits for the next acknowledgement, or for the writers to end after
/// the kill: a stall fails the round instead of hanging the test.
const STALL: std::time::Duration = std::time::Duration::from_secs(120);
/// The longest a writer's request may take (a loaded CI machine answers in well under a second).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn content(name: &str) -> Vec<u8> {
    let seed = name
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    bytes(SIZE, seed)
}

/// What the writers did: names they sent, and names the server acknowledged (201 with the
/// completion headers).
#[derive(Default)]
struct Log {
    sent: Vec<String>,
    acked: Vec<String>,
}

async fn writer(
    (base, sid): (String, String),
    (round, w): (usize, usize),
    log: Arc<Mutex<Log>>,
    acks: tokio::sync::mpsc::UnboundedSender<()>,
) {
    let admin = Client::new("admin", ADMIN_PASSWORD);
    let folder = format!("{base}/remote.php/dav/spaces/{sid}/");
    for j in 0.. {
        let name = format!("r{round}-w{w}-{j}.bin");
        let data = content(&name);
        let checksum = format!("sha1 {}", sha1_hex(&data));
        let meta = [("filename", name.as_str()), ("checksum", checksum.as_str())];
        log.lock().unwrap().sent.push(name.clone());
        // A bound on each request: once in a CI run a writer never returned after the kill
        // (no socket left, nothing pending in the runtime), and the test hung instead of
        // going on to the restart. A request cut off here counts as unacknowledged.
        let res = admin
            .tus_upload_request(&folder, data, &meta)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await;
        match res {
            Ok(r) if r.status() == StatusCode::CREATED && r.headers().contains_key("oc-fileid") => {
                log.lock().unwrap().acked.push(name);
                let _ = acks.send(());
            }
            // The server is gone (or going): this writer is done.
            _ => return,
        }
    }
}

/// The URL of `name` in the personal space `sid`.
fn file_url(base: &str, sid: &str, name: &str) -> String {
    format!("{base}/remote.php/dav/spaces/{sid}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_of_small_uploads_keeps_every_acknowledged_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    drop(Server::start(dir.path()));
    let sid = personal_space_id(dir.path(), "admin");
    let admin = Client::new("admin", ADMIN_PASSWORD);
    let mut acked_total = 0;
    for round in 0..ROUNDS {
        let server = Server::start(dir.path());
        let base = format!("http://{}", server.addr);
        let log = Arc::new(Mutex::new(Log::default()));
        let (tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let at = (base.clone(), sid.clone());
                tokio::spawn(writer(at, (round, w), log.clone(), tx.clone()))
            })
            .collect();
        drop(tx);
        // The kill point: after a number of acknowledgements that grows with the round, so
        // that the rounds cover the start of a burst, its middle and its later part; other
        // uploads are in flight at every one of them.
        let kill_after = 1 + round * 3;
        for _ in 0..kill_after {
            let ack = tokio::time::timeout(STALL, acks.recv()).await;
            if ack
                .expect("an acknowledgement or the writers' end")
                .is_none()
            {
                break;
            }
        }
        drop(server); // SIGKILL
        for w in writers {
            let _ = tokio::time::timeout(STALL, w)
                .await
                .expect("writers end once their server is killed");
        }
        let Log { sent, acked } = std::mem::take(&mut *log.lock().unwrap());
        acked_total += acked.len();

        let server = Server::start(dir.path());
        let base = format!("http://{}", server.addr);
        for name in &sent {
            let (status, body) = admin.get(&file_url(&base, &sid, name)).await;
            let want = content(name);
            if acked.contains(name) {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "round {round}: acknowledged {name} lost"
                );
            }
            match status {
                StatusCode::OK => {
                    assert!(body == want, "round {round}: {name} is not whole");
                    let (multi, sums) = admin
                        .propfind(&file_url(&base, &sid, name), "0", "<oc:checksums/>")
                        .await;
                    assert_eq!(multi, 207, "{name}");
                    assert!(
                        sums.to_lowercase()
                            .contains(&format!("sha1:{}", sha1_hex(&want))),
                        "round {round}: {name} lacks its checksums: {sums}"
                    );
                }
                StatusCode::NOT_FOUND => {}
                other => panic!("round {round}: GET {name}: {other}"),
            }
        }
        drop(server);
    }
    assert!(acked_total >= ROUNDS, "every round acknowledged uploads");
    let fsck = run(dir.path(), &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
}
