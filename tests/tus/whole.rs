//! Uploads that finish in their creation request (issue 13): every one is a single commit
//! that needs no session. Many at once into one folder all land, with their checksums, and
//! the folder's size and etag account for each; the commit itself refuses what SPEC §3's
//! checks refuse, in SPEC's order; and an upload above the inline limit that arrives whole
//! leaves no session behind either.

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MATCH};

use crate::common::TestServer;
use crate::support::*;

#[tokio::test]
async fn many_concurrent_one_request_uploads_into_one_folder_all_land_and_the_folder_counts_each() {
    let env = Env::start().await;
    let folder = format!("{}burst/", env.root());
    assert_eq!(env.client.mkcol(&folder).await, StatusCode::CREATED);
    let before = env.node("burst").await.unwrap();
    const N: usize = 48;
    let uploads = (0..N).map(|i| {
        let env = &env;
        let folder = folder.clone();
        async move {
            let data = bytes(1000 + i * 97, i as u8);
            let res = env
                .client
                .tus_upload_request(&folder, data.clone(), &[("filename", &format!("f{i}.bin"))])
                .send()
                .await
                .unwrap();
            (res.status(), offset(&res), data)
        }
    });
    let results = futures::future::join_all(uploads).await;
    let mut total = 0;
    for (i, (status, acked, data)) in results.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "upload {i}");
        assert_eq!(*acked, data.len() as u64);
        let node = env.node(&format!("burst/f{i}.bin")).await.expect("landed");
        assert_eq!(
            node.checksums.sha1.as_deref(),
            Some(sha1_hex(data).as_str())
        );
        assert_eq!(node.checksums.md5.as_deref(), Some(md5_hex(data).as_str()));
        let (got, body) = env.client.get(&format!("{folder}f{i}.bin")).await;
        assert_eq!((got, &body), (StatusCode::OK, data));
        total += data.len() as u64;
    }
    let after = env.node("burst").await.unwrap();
    assert_eq!(after.size, total, "the folder's size counts every file");
    assert_ne!(after.etag, before.etag);
    assert_eq!(
        env.node("").await.unwrap().size,
        total,
        "and so does the root's"
    );
    let store = env.srv.state.store();
    assert!(store.uploads().await.unwrap().is_empty(), "no session row");
    env.assert_fsck_clean().await;
}

/// Concurrent commits share a transaction; each must still see the ones before it. A space
/// with room for 10 of 24 concurrent uploads (each fits on its own when its creation is
/// checked) takes exactly 10, refuses the others with 507 at their commit, and counts only
/// what landed. A refusal inside a shared transaction answers only its own upload.
#[tokio::test]
async fn concurrent_uploads_beyond_the_quota_land_exactly_as_many_as_fit_and_the_rest_get_507() {
    const SIZE: usize = 1000;
    const FIT: usize = 10;
    const N: usize = 24;
    let srv = TestServer::start().await;
    let space = srv
        .project_space("Tight", Some((FIT * SIZE + SIZE / 2) as u64))
        .await;
    let mut env = Env::with(srv).await;
    env.sid = space.id;
    let root = env.root();
    let uploads = (0..N).map(|i| {
        let env = &env;
        let root = root.clone();
        async move {
            let data = bytes(SIZE, i as u8);
            let res = env
                .client
                .tus_upload_request(&root, data.clone(), &[("filename", &format!("f{i}.bin"))])
                .send()
                .await
                .unwrap();
            (res.status(), data)
        }
    });
    let results = futures::future::join_all(uploads).await;
    let mut landed = 0;
    for (i, (status, data)) in results.iter().enumerate() {
        let node = env.node(&format!("f{i}.bin")).await;
        match *status {
            StatusCode::CREATED => {
                landed += 1;
                let node = node.expect("a created upload is there");
                assert_eq!(
                    node.checksums.sha1.as_deref(),
                    Some(sha1_hex(data).as_str())
                );
                assert_eq!(env.content(&format!("f{i}.bin")).await.unwrap(), *data);
            }
            StatusCode::INSUFFICIENT_STORAGE => {
                assert!(node.is_none(), "a refused upload {i} is not there")
            }
            other => panic!("upload {i}: {other}"),
        }
    }
    assert_eq!(landed, FIT, "exactly as many as fit");
    assert_eq!(env.node("").await.unwrap().size, (FIT * SIZE) as u64);
    let store = env.srv.state.store();
    assert!(store.uploads().await.unwrap().is_empty(), "no session row");
    env.assert_fsck_clean().await;
}

#[tokio::test]
async fn a_one_request_upload_is_refused_by_the_commit_as_the_creation_checks_refuse() {
    let srv = TestServer::start().await;
    let sid = srv.shared_project_space().await;
    let mut env = Env::with(srv).await;
    env.sid = sid;
    let root = env.root();
    assert_eq!(
        env.client.mkcol(&format!("{root}docs/sub")).await,
        StatusCode::CREATED
    );
    let send = |name: &'static str, if_match: Option<&'static str>| {
        let env = &env;
        async move {
            let mut req =
                env.client
                    .tus_upload_request(&env.root(), b"new".to_vec(), &[("filename", name)]);
            if let Some(etag) = if_match {
                req = req.header(IF_MATCH, etag);
            }
            req.send().await.unwrap().status()
        }
    };
    assert_eq!(
        send("docs/sub", None).await,
        StatusCode::CONFLICT,
        "a folder"
    );
    assert_eq!(
        send("nowhere/f.txt", None).await,
        StatusCode::PRECONDITION_FAILED,
        "no parent"
    );
    let first = env.upload("docs/f.txt", b"old").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let etag = header(&first, ETAG).unwrap();
    assert_eq!(
        send("docs/f.txt", Some("\"0000\"")).await,
        StatusCode::PRECONDITION_FAILED,
        "a changed etag"
    );
    assert_eq!(
        send("docs/g.txt", Some("\"0000\"")).await,
        StatusCode::CREATED,
        "If-Match names no file that is not there"
    );
    let bob = env.srv.client_as("bob", "bob-pw");
    bob.lock(&format!("{root}docs/f.txt")).await;
    assert_eq!(send("docs/f.txt", None).await, StatusCode::LOCKED);
    assert_eq!(env.content("docs/f.txt").await.unwrap(), b"old");
    assert_eq!(
        format!("\"{}\"", env.node("docs/f.txt").await.unwrap().etag),
        etag,
        "nothing committed"
    );
    assert!(env.srv.state.store().uploads().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_upload_above_the_inline_limit_that_arrives_whole_leaves_no_session() {
    let env = Env::with(TestServer::start_with(|c| c.inline_max_size = 1024).await).await;
    let data = bytes(256 << 10, 5);
    let res = env.upload("big.bin", &data).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(offset(&res), data.len() as u64);
    assert!(header(&res, ETAG).is_some(), "completion headers");
    let node = env.node("big.bin").await.expect("committed");
    assert!(!node.blob.as_ref().unwrap().as_str().starts_with("inline:"));
    assert_eq!(
        node.checksums.sha1.as_deref(),
        Some(sha1_hex(&data).as_str())
    );
    assert_eq!(env.content("big.bin").await.unwrap(), data);
    // The Location names no session: like a finished upload that was cleaned up.
    assert_eq!(
        env.head(&location(&res)).await.status(),
        StatusCode::NOT_FOUND
    );
    let store = env.srv.state.store();
    assert!(store.uploads().await.unwrap().is_empty(), "no session row");
    env.assert_fsck_clean().await;
}

/// SQLite's WAL is checkpointed beside the writers, not inside one of their commits (README
/// "Durability"), and still started over: during and after a burst of small uploads the
/// checkpointer copies what it wrote into the database file; an upload after that, too few
/// frames for a due checkpoint, is copied once the writers are quiet; and a second burst of
/// the same size then rewrites the WAL from its beginning instead of adding to it.
#[tokio::test]
async fn bursts_of_small_uploads_are_checkpointed_beside_the_writers_and_reuse_the_wal() {
    let env = Env::start().await;
    let Some(db) = env
        .srv
        .state
        .config()
        .metadata_url
        .strip_prefix("sqlite://")
        .map(std::path::PathBuf::from)
    else {
        eprintln!("PostgreSQL metadata: no WAL of ours to look at");
        return;
    };
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    let shm = std::path::PathBuf::from(format!("{}-shm", db.display()));
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    // The WAL's frames and how many of them a checkpoint copied, from the wal-index header
    // (https://www.sqlite.org/walformat.html, 2.1: mxFrame at byte 16, nBackfill at byte 96,
    // native byte order).
    let frames = || {
        let header = std::fs::read(&shm).unwrap();
        let word = |at: usize| u32::from_ne_bytes(header[at..at + 4].try_into().unwrap());
        (word(16), word(96))
    };
    let all_copied = || async {
        for _ in 0..200 {
            let (written, copied) = frames();
            if written > 0 && copied == written {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the WAL was never all copied: {:?} (frames, copied); db {} B, WAL {} B",
            frames(),
            size(&db),
            size(&wal)
        );
    };
    const FILES: usize = 96;
    const SIZE: usize = 60 << 10;
    let burst = |round: usize| {
        let env = &env;
        async move {
            for chunk in (0..FILES).collect::<Vec<_>>().chunks(16) {
                let sends = chunk.iter().map(|i| async move {
                    let data = bytes(SIZE, (round * FILES + i) as u8);
                    let res = env.upload(&format!("r{round}-{i}.bin"), &data).await;
                    assert_eq!(res.status(), StatusCode::CREATED);
                });
                futures::future::join_all(sends).await;
            }
        }
    };
    let volume = (FILES * SIZE) as u64;
    burst(1).await;
    all_copied().await;
    assert!(
        size(&db) >= volume,
        "the database file did not receive the burst: db {} B, WAL {} B",
        size(&db),
        size(&wal)
    );
    // One more upload, a few frames after the burst's last checkpoint: no sync finds a
    // checkpoint due for them, only the quiet after them does.
    let tail = bytes(SIZE, 1);
    assert_eq!(
        env.upload("tail.bin", &tail).await.status(),
        StatusCode::CREATED
    );
    all_copied().await;
    let first = size(&wal);
    burst(2).await;
    let second = size(&wal);
    assert!(
        second < first + volume / 2,
        "the second burst added to the WAL instead of starting it over: {first} B after the \
         first, {second} B after the second"
    );
    for round in 1..=2 {
        let data = bytes(SIZE, (round * FILES + 7) as u8);
        assert_eq!(env.content(&format!("r{round}-7.bin")).await.unwrap(), data);
    }
    assert_eq!(env.content("tail.bin").await.unwrap(), tail);
    env.assert_fsck_clean().await;
}
