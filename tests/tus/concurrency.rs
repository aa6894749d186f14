//! Requests racing on one upload (SPEC §4): a second PATCH while one is in progress gets 423,
//! so exactly one of two PATCHes at the same offset succeeds; an interrupted PATCH keeps what
//! arrived and the client resumes from `HEAD`'s offset.

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn an_interrupted_patch_keeps_what_arrived() {
    let env = Env::start().await;
    let mut attempt = 0;
    let loc = loop {
        attempt += 1;
        // Each try can lose to a probe of `wait_busy` holding the upload at that moment; with
        // PostgreSQL a probe's hold lasts a round trip to the database longer, so that happens
        // on a good share of tries.
        assert!(attempt <= 20, "the PATCH never got hold of its upload");
        let loc = env.create("cut.bin", 1 << 20).await;
        let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let sending = tokio::spawn(patch_stream(&env, &loc, rx));
        tx.send(Ok(Bytes::from(bytes(300_000, 1)))).await.unwrap();
        if !wait_busy(&env, &loc, &sending).await {
            continue;
        }
        // The server holds the upload: cut the body off.
        tx.send(Err(std::io::Error::other("client gone")))
            .await
            .unwrap();
        drop(tx);
        assert!(sending.await.unwrap().is_err());
        break loc;
    };
    let mut got = 0;
    for _ in 0..250 {
        let head = env.head(&loc).await;
        got = offset(&head);
        if got > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(got > 0 && got <= 300_000, "kept {got}");
    let rest = bytes(1 << 20, 1)[got as usize..].to_vec();
    let expected = [&bytes(300_000, 1)[..got as usize], &rest[..]].concat();
    let res = env.patch(&loc, got, rest).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let content = env.content("cut.bin").await.unwrap();
    assert_eq!(sha1_hex(&content), sha1_hex(&expected));
}

#[tokio::test]
async fn concurrent_patches_at_the_same_offset_exactly_one_succeeds() {
    let env = Env::start().await;
    // The barrier: the second PATCH goes out once a probe meets 423, i.e. once the first
    // request holds the upload. A probe that got there first makes the first PATCH fail with
    // 423; then the race starts again on a fresh upload.
    let mut attempt = 0;
    let (loc, first, mut tx) = loop {
        attempt += 1;
        assert!(
            attempt <= 20,
            "the first PATCH never got hold of its upload (see above)"
        );
        let loc = env.create("race.bin", 8).await;
        let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let first = tokio::spawn(patch_stream(&env, &loc, rx));
        tx.send(Ok(Bytes::from_static(b"AAAA"))).await.unwrap();
        if wait_busy(&env, &loc, &first).await {
            break (loc, first, tx);
        }
    };
    let second = env
        .patch(&loc, 0, b"BBBBBBBB".to_vec())
        .send()
        .await
        .unwrap()
        .status();
    tx.send(Ok(Bytes::from_static(b"AAAA"))).await.unwrap();
    drop(tx);
    let first = first.await.unwrap().map(|r| r.status());
    let outcomes = [first.as_ref().ok().copied(), Some(second)];
    let wins: Vec<_> = outcomes
        .iter()
        .filter(|s| **s == Some(StatusCode::NO_CONTENT))
        .collect();
    assert_eq!(wins.len(), 1, "first {first:?}, second {second}");
    for loser in outcomes
        .iter()
        .flatten()
        .filter(|s| **s != StatusCode::NO_CONTENT)
    {
        assert!(
            [
                StatusCode::LOCKED,
                StatusCode::CONFLICT,
                StatusCode::NOT_FOUND
            ]
            .contains(loser),
            "{loser}"
        );
    }
    let content = env.content("race.bin").await.unwrap();
    let want: &[u8] = if second == StatusCode::NO_CONTENT {
        b"BBBBBBBB"
    } else {
        b"AAAAAAAA"
    };
    assert_eq!(content, want);
}

type Chunks = futures::channel::mpsc::Receiver<Result<Bytes, std::io::Error>>;

fn patch_stream(
    env: &Env,
    loc: &str,
    rx: Chunks,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    env.patch(loc, 0, reqwest::Body::wrap_stream(rx)).send()
}

/// Wait until `first` holds the upload: a probe PATCH at a wrong offset answers 409 while the
/// upload is idle and 423 while another request is in progress. False when `first` ended
/// instead (a probe can itself hold the upload for a moment and make `first` fail with 423).
async fn wait_busy<T>(env: &Env, loc: &str, first: &tokio::task::JoinHandle<T>) -> bool {
    // A PATCH holds its upload from its first step, probes too: the first probe would often
    // reach the server before the spawned request (it is sent from this task's first poll)
    // and hold the upload while it reads the session, so the request under test met 423.
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Generous: debug builds on a loaded CI machine are slow; this is a wait, not a timing test.
    for _ in 0..6000 {
        if first.is_finished() {
            return false;
        }
        let res = env.patch(loc, 999, Vec::new()).send().await.unwrap();
        match res.status() {
            StatusCode::LOCKED => return true,
            StatusCode::CONFLICT => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("unexpected {other}: {:?}", res.text().await),
        }
    }
    panic!("the upload never became busy");
}

/// A PATCH whose body stalls ends after `server.body_stall_timeout` (issue 15 item 4): it keeps
/// the bytes it made durable and frees the upload, so the client resumes from another
/// connection at `HEAD`'s offset instead of meeting 423 while the dead request lives.
#[tokio::test]
async fn a_stalled_patch_ends_keeps_its_bytes_and_the_upload_resumes_elsewhere() {
    let srv = crate::common::TestServer::start_with(|c| {
        c.limits.body_stall_timeout = Duration::from_secs(1)
    })
    .await;
    let env = Env::with(srv).await;
    let data = bytes(1 << 20, 7);
    let loc = env.create("stall.bin", data.len() as u64).await;
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let sending = tokio::spawn(patch_stream(&env, &loc, rx));
    tx.send(Ok(Bytes::from(data[..300_000].to_vec())))
        .await
        .unwrap();
    // The client sends nothing more and keeps its connection open: only the server ends it.
    // (While it lives, the PATCH holds the upload: a resume would get 423.)
    let ended = tokio::time::timeout(Duration::from_secs(30), sending).await;
    let ended = ended.expect("the stalled PATCH was never ended by the server");
    // The client may see the answer, or only the closed connection while still sending.
    if let Ok(res) = ended.unwrap() {
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    }
    let head = env.head(&loc).await;
    assert_eq!(offset(&head), 300_000, "every byte that arrived is kept");
    let res = env
        .patch(&loc, 300_000, data[300_000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "resumed elsewhere");
    let content = env.content("stall.bin").await.unwrap();
    assert_eq!(sha1_hex(&content), sha1_hex(&data));
    drop(tx);
}
