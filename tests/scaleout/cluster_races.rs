//! The race-and-kill scenarios of issue 14 on three nodes: PATCHes hopping between nodes (A),
//! a node killed mid-body (B), a node paused while it holds an upload (C), and two PATCHes at
//! once (D).
//!
//! The bytes are in one Garage, so the chunks are smaller than a part (A), the kill lands
//! after whole parts were committed (B), and every finished upload leaves no multipart upload
//! and no tail object in the bucket.
//!
//! C comes in two forms. The upload hold is a PostgreSQL session lock, which a paused process
//! keeps while its connection stays open: the other nodes answer 423 meanwhile, and nothing
//! moves the offset until it finishes. Once the database has ended the paused node's session
//! (as it does for a client that stopped answering), another node moves the upload on, and
//! the paused node, resumed between a part it uploaded and its commit, loses the commit's
//! compare-and-set: 409, the offset not moved by it. The node is stopped at that point
//! deterministically: its S3 requests go through a proxy that holds back the answer to its
//! `UploadPart`.

use bytes::Bytes;

use crate::balancer::Balancer;
use crate::cluster::{Cluster, admin, await_held, end_hold, oc_checksums, streaming};
use crate::support::{noise, sha256};

const MIB: usize = 1024 * 1024;

/// Creates an upload of `data.len()` bytes named `name` on node `i`; its URL.
async fn create(cluster: &Cluster, i: usize, name: &str, len: usize) -> String {
    let created = admin()
        .tus_create(
            &format!("{}/", cluster.space(i)),
            len as u64,
            &[("filename", name)],
        )
        .await;
    assert_eq!(created.status, 201);
    created.location().to_string()
}

/// The offset every node reports for the upload at `url`; asserts they agree.
async fn agreed_offset(cluster: &Cluster, nodes: &[usize], url: &str) -> u64 {
    let mut seen = Vec::new();
    for &i in nodes {
        let head = admin().tus_head(&cluster.on(i, url)).await;
        assert_eq!(head.status, 200, "HEAD on node {i}");
        seen.push(head.offset.expect("Upload-Offset"));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "offsets: {seen:?}");
    seen[0]
}

/// Asserts the file `name` holds `data` as node `i` serves it, checksums included, and that
/// the bucket keeps no multipart upload or tail object once it is stored.
async fn assert_stored(cluster: &Cluster, i: usize, name: &str, data: &[u8]) {
    assert_eq!(
        cluster.leftovers().await,
        (vec![], vec![]),
        "staged leftovers"
    );
    let url = format!("{}/{name}", cluster.space(i));
    let (status, body) = admin().get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), data.len(), "size on node {i}");
    assert_eq!(sha256(&body), sha256(data), "SHA-256 on node {i}");
    let (_, xml) = admin().propfind(&url, "0", "<oc:checksums/>").await;
    assert!(xml.contains(&oc_checksums(data)), "node {i}: {xml}");
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn patches_hopping_between_nodes_agree_on_every_offset_and_the_checksums() {
    let cluster = Cluster::start(3).await;
    // Four chunks of 3 MiB and 3 bytes: each smaller than the upload's 5 MiB part, so parts
    // are cut across PATCHes on different nodes, from the tail the previous node left.
    let chunk = 3 * MIB + 3;
    let data = noise(4 * chunk, 14);
    let url = create(&cluster, 0, "hop.bin", data.len()).await;
    let mut offset = 0;
    for (n, node) in [0, 1, 2, 0].into_iter().enumerate() {
        let end = (offset + chunk).min(data.len());
        let patched = admin()
            .tus_patch(
                &cluster.on(node, &url),
                offset as u64,
                data[offset..end].to_vec(),
            )
            .await;
        assert_eq!(patched.status, 204, "PATCH {n} on node {node}");
        offset = end;
        assert_eq!(
            agreed_offset(&cluster, &[0, 1, 2], &url).await,
            offset as u64
        );
        if (5 * MIB..data.len()).contains(&offset) {
            let (uploads, _) = cluster.leftovers().await;
            assert_eq!(uploads.len(), 1, "one multipart upload after PATCH {n}");
            let (key, id) = &uploads[0];
            let parts = cluster.garage.blobs().part_sizes(key, id).await.unwrap();
            assert_eq!(parts, vec![5 * MIB as u64; offset / (5 * MIB)], "parts");
        }
    }
    assert_eq!(offset, data.len());
    for i in 0..3 {
        assert_stored(&cluster, i, "hop.bin", &data).await;
    }
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_node_killed_mid_patch_leaves_what_it_committed_and_another_node_completes() {
    let mut cluster = Cluster::start(3).await;
    // Past the 64 MiB checkpoint at which a long body without a checksum is committed on
    // local disk (an object store commits each part: earlier, and more often).
    let checkpoint = 64 * MIB;
    let sent = checkpoint + MIB;
    let data = noise(checkpoint + 3 * MIB, 15);
    let url = create(&cluster, 0, "killed.bin", data.len()).await;
    let (tx, body) = streaming();
    let patch = tokio::spawn(
        admin()
            .tus_patch_request(&cluster.on(1, &url), 0, body)
            .send(),
    );
    for piece in data[..sent].chunks(MIB) {
        tx.unbounded_send(Ok(Bytes::copy_from_slice(piece)))
            .unwrap();
    }
    // Barrier: bytes up to the checkpoint are committed (every node sees them) while the
    // body is still open.
    let seen = loop {
        let offset = agreed_offset(&cluster, &[2], &url).await;
        if offset >= checkpoint as u64 {
            break offset;
        }
        tokio::task::yield_now().await;
    };
    cluster.kill(1);
    assert!(
        patch.await.unwrap().is_err(),
        "the killed node never answered"
    );
    drop(tx);
    let offset = agreed_offset(&cluster, &[0, 2], &url).await;
    // Local disk commits at 64 MiB and not again before 128; an object store with 5 MiB parts
    // (this length's) commits at 65 MiB, the end of what was sent. Either way nothing moves
    // after the barrier, and what was committed before the kill stays.
    assert_eq!(
        offset, seen,
        "the offset committed before the kill ({sent} sent)"
    );
    let rest = data[offset as usize..].to_vec();
    let done = loop {
        let patched = admin()
            .tus_patch(&cluster.on(2, &url), offset, rest.clone())
            .await;
        // The dead node's hold ends when the database sees its connection close.
        if patched.status != 423 {
            break patched;
        }
    };
    assert_eq!(done.status, 204);
    assert_eq!(done.offset, Some(data.len() as u64));
    assert_stored(&cluster, 0, "killed.bin", &data).await;
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_paused_node_keeps_its_upload_and_the_others_answer_423_until_it_finishes() {
    let cluster = Cluster::start(3).await;
    let data = noise(2 * MIB, 16);
    let url = create(&cluster, 0, "paused.bin", data.len()).await;
    let (tx, body) = streaming();
    let patch = tokio::spawn(
        admin()
            .tus_patch_request(&cluster.on(1, &url), 0, body)
            .send(),
    );
    tx.unbounded_send(Ok(Bytes::copy_from_slice(&data[..MIB])))
        .unwrap();
    await_held(&cluster, &url).await;
    cluster.signal(1, "STOP");
    // Another node must not write into the upload the paused one is writing: its PATCH is
    // refused before its body is read (this body never ends), and the offset stays.
    let (_never, empty) = streaming();
    let refused = admin()
        .tus_patch_request(&cluster.on(2, &url), 0, empty)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 423);
    assert_eq!(agreed_offset(&cluster, &[0, 2], &url).await, 0);
    cluster.signal(1, "CONT");
    tx.unbounded_send(Ok(Bytes::copy_from_slice(&data[MIB..])))
        .unwrap();
    drop(tx);
    let res = patch.await.unwrap().unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        agreed_offset(&cluster, &[0, 1, 2], &url).await,
        data.len() as u64
    );
    assert_stored(&cluster, 2, "paused.bin", &data).await;
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_node_paused_between_a_part_and_its_commit_fails_409_once_another_node_moved_on() {
    let mut cluster = Cluster::start(3).await;
    let s3 = Balancer::start(&cluster.garage.endpoint).await;
    cluster.restart_through(1, &s3.base);
    let data = noise(12 * MIB + 7, 21);
    let url = create(&cluster, 0, "zombie.bin", data.len()).await;
    let (held, release) = s3.hold_next_part();
    let zombie = {
        let url = cluster.on(1, &url);
        let body = data[..6 * MIB].to_vec();
        tokio::spawn(async move { admin().tus_patch(&url, 0, body).await })
    };
    held.await.expect("node 2 uploaded its first part");
    cluster.signal(1, "STOP");
    end_hold(&cluster, &url).await;
    let moved = admin()
        .tus_patch(&cluster.on(2, &url), 0, data[..7 * MIB].to_vec())
        .await;
    assert_eq!(moved.status, 204, "node 3 moves the upload on");
    cluster.signal(1, "CONT");
    release.send(()).expect("the proxy waits");
    let late = zombie.await.unwrap();
    assert_eq!(
        late.status, 409,
        "the resumed node lost the compare-and-set"
    );
    assert_eq!(
        agreed_offset(&cluster, &[0, 1, 2], &url).await,
        7 * MIB as u64,
        "the offset node 3 committed"
    );
    let rest = admin()
        .tus_patch(
            &cluster.on(0, &url),
            7 * MIB as u64,
            data[7 * MIB..].to_vec(),
        )
        .await;
    assert_eq!(rest.status, 204);
    assert_stored(&cluster, 1, "zombie.bin", &data).await;
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn two_patches_at_the_same_offset_on_two_nodes_end_in_exactly_one_204() {
    let cluster = Cluster::start(3).await;
    // Twelve MiB: the first PATCH's six cross the 5 MiB part.
    let data = noise(12 * MIB, 17);
    let first_len = 6 * MIB;
    let url = create(&cluster, 0, "race.bin", data.len()).await;
    let (tx, body) = streaming();
    let first = tokio::spawn(
        admin()
            .tus_patch_request(&cluster.on(0, &url), 0, body)
            .send(),
    );
    tx.unbounded_send(Ok(Bytes::copy_from_slice(&data[..3 * MIB])))
        .unwrap();
    await_held(&cluster, &url).await;
    // The second PATCH, on another node, while the first streams: 423 at once, its body
    // unread (it never ends).
    let (_never, empty) = streaming();
    let second = admin()
        .tus_patch_request(&cluster.on(1, &url), 0, empty)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 423);
    let terminate = admin()
        .tus_terminate_request(&cluster.on(2, &url))
        .send()
        .await
        .unwrap();
    assert_eq!(terminate.status(), 423, "nor is it terminated meanwhile");
    tx.unbounded_send(Ok(Bytes::copy_from_slice(&data[3 * MIB..first_len])))
        .unwrap();
    drop(tx);
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 204);
    // The same offset once more, now that the first moved the upload on: 409.
    let late = admin()
        .tus_patch(&cluster.on(2, &url), 0, data[..MIB].to_vec())
        .await;
    assert_eq!(late.status, 409);
    assert_eq!(
        agreed_offset(&cluster, &[0, 1, 2], &url).await,
        first_len as u64
    );
    let rest = admin()
        .tus_patch(
            &cluster.on(1, &url),
            first_len as u64,
            data[first_len..].to_vec(),
        )
        .await;
    assert_eq!(rest.status, 204);
    assert_stored(&cluster, 2, "race.bin", &data).await;
}
