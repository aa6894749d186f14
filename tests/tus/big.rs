//! A 5 GiB upload (beyond 2^32 bytes): data generated on the fly, streamed in a few PATCHes,
//! verified by SHA-256 on both sides (the server checks the metadata `checksum` at completion).

use bytes::Bytes;
use futures::stream;
use reqwest::StatusCode;
use reqwest::header::CONTENT_LENGTH;
use sha2::{Digest, Sha256};

use crate::support::*;

const MIB: u64 = 1 << 20;
const TOTAL: u64 = 5 * 1024 * MIB + 12345;
const PATCH_SIZE: u64 = 1024 * MIB;

/// Block `i` of the generated data: a fixed pseudo-random MiB stamped with its index, so no
/// two blocks are equal and a misplaced block changes the digest.
fn block(base: &Bytes, i: u64) -> Bytes {
    let mut b = base.to_vec();
    b[..8].copy_from_slice(&i.to_le_bytes());
    Bytes::from(b)
}

/// The bytes `[from, to)` of the generated file as a stream of blocks.
fn range(
    base: Bytes,
    from: u64,
    to: u64,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::iter((from / MIB)..to.div_ceil(MIB)).map(move |i| {
        let b = block(&base, i);
        let start = from.max(i * MIB) - i * MIB;
        let end = to.min((i + 1) * MIB) - i * MIB;
        Ok(b.slice(start as usize..end as usize))
    })
}

use futures::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes 5 GiB; .ci/run runs it with --include-ignored"]
async fn five_gib_upload_completes_with_a_matching_sha256() {
    let env = Env::start().await;
    let t0 = std::time::Instant::now();
    let base = Bytes::from(bytes(MIB as usize, 7));
    let mut sha = Sha256::new();
    let mut all = range(base.clone(), 0, TOTAL);
    while let Some(b) = all.next().await {
        sha.update(b.unwrap());
    }
    let want = hex::encode(sha.finalize());
    let sum = format!("SHA256 {want}");
    let t1 = std::time::Instant::now();
    let res = env
        .post(
            &env.root(),
            TOTAL,
            &[("filename", "big.bin"), ("checksum", &sum)],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let loc = location(&res);
    let mut at = 0;
    let mut last = None;
    while at < TOTAL {
        let end = (at + PATCH_SIZE).min(TOTAL);
        let body = reqwest::Body::wrap_stream(range(base.clone(), at, end));
        let res = env
            .patch(&loc, at, body)
            .header(CONTENT_LENGTH, end - at)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "PATCH at {at}");
        assert_eq!(offset(&res), end);
        at = end;
        last = Some(res);
    }
    let t2 = std::time::Instant::now();
    let last = last.unwrap();
    assert!(header(&last, "oc-fileid").is_some(), "completed");
    let node = env.node("big.bin").await.unwrap();
    assert_eq!(node.size, TOTAL);
    // Read the stored file back and hash it independently.
    let mut reader = env
        .srv
        .state
        .store()
        .blobs()
        .open(node.blob.as_ref().unwrap(), None)
        .await
        .unwrap();
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    loop {
        use tokio::io::AsyncReadExt;
        let n = reader.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    assert_eq!(hex::encode(sha.finalize()), want);
    // Numbers for the report, not assertions.
    eprintln!(
        "5 GiB: client sha256 {:?}, upload {:?} ({:.0} MiB/s), read-back sha256 {:?}",
        t1 - t0,
        t2 - t1,
        TOTAL as f64 / MIB as f64 / (t2 - t1).as_secs_f64(),
        t2.elapsed()
    );
}
