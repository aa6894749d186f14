//! tus uploads whose bytes go into S3 multipart uploads (parts of 5 MiB for these lengths)
//! and tail objects.

use std::time::Duration;

use reqwest::StatusCode;

use super::common::TestServer;
use super::common::garage::Garage;
use super::{MIB, data, leftovers, objects, recorded, server, sha1_hex};

/// The upload URL of `location` on `srv` (a restarted server listens on another port).
fn on(srv: &TestServer, location: &str) -> String {
    let path = &location[location.find("/data/").expect("an upload URL")..];
    srv.url(path)
}

/// Create an upload of `len` bytes named `name` in the admin's space; its URL.
async fn create(srv: &TestServer, name: &str, len: usize) -> String {
    let sid = srv.admin_space().await;
    let created = srv
        .admin()
        .tus_create(
            &format!("{}/", srv.space_url(&sid)),
            len as u64,
            &[("filename", name)],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    created.location().to_string()
}

/// PATCH `body[from..to]` at `from`; asserts the 204 and the new offset.
async fn patch(srv: &TestServer, location: &str, body: &[u8], from: usize, to: usize) {
    let res = srv
        .admin()
        .tus_patch(&on(srv, location), from as u64, body[from..to].to_vec())
        .await;
    assert_eq!(
        (res.status, res.offset),
        (StatusCode::NO_CONTENT, Some(to as u64)),
        "PATCH {from}..{to}"
    );
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn chunks_below_and_above_a_part_complete_with_their_bytes_and_checksums_and_leave_nothing_staged()
 {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let sid = srv.admin_space().await;
    let body = data(13 * MIB + 123);
    let loc = create(&srv, "big.bin", body.len()).await;
    // 3 MiB stays in a tail; the next 3 MiB fill the first part and leave 1 MiB; then
    // 7 MiB + 123 make another part and the rest completes the upload.
    let cuts = [0, 3 * MIB, 6 * MIB, body.len()];
    for w in cuts.windows(2) {
        patch(&srv, &loc, &body, w[0], w[1]).await;
        if w[1] < body.len() {
            let (uploads, tails) = leftovers(&garage).await;
            assert_eq!(tails.len(), 1, "one tail object at {}: {tails:?}", w[1]);
            assert_eq!(uploads.len(), usize::from(w[1] >= 5 * MIB), "{uploads:?}");
            // Parts are 5 MiB whatever the chunks were (Garage would take 3 MiB parts too).
            for (key, id) in &uploads {
                let sizes = garage.blobs().part_sizes(key, id).await.unwrap();
                assert_eq!(sizes, vec![5 * MIB as u64; w[1] / (5 * MIB)]);
            }
        }
    }
    let (sha1, stored) = recorded(&srv, &sid, "big.bin").await;
    assert!(stored == body, "the object holds the uploaded bytes");
    assert_eq!(sha1, sha1_hex(&body));
    let (status, got) = srv
        .admin()
        .get(&format!("{}/big.bin", srv.space_url(&sid)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == body, "GET answers the uploaded bytes");
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
    assert_eq!(objects(&garage).await.len(), 1, "only the file's blob");
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn an_upload_resumed_after_a_restart_completes_with_the_checksums_of_all_its_bytes() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let body = data(12 * MIB + 5);
    let loc = create(&srv, "resumed.bin", body.len()).await;
    // One full part and 2 MiB in a tail, then the server goes away with its hasher.
    patch(&srv, &loc, &body, 0, 7 * MIB).await;
    let (dir, config) = srv.stop();
    let srv = TestServer::start_in(dir, config).await;
    let head = srv.admin().tus_head(&on(&srv, &loc)).await;
    assert_eq!(head.offset, Some(7 * MIB as u64));
    patch(&srv, &loc, &body, 7 * MIB, 9 * MIB).await;
    patch(&srv, &loc, &body, 9 * MIB, body.len()).await;
    let sid = srv.admin_space().await;
    let (sha1, stored) = recorded(&srv, &sid, "resumed.bin").await;
    assert!(stored == body, "the object holds the uploaded bytes");
    assert_eq!(sha1, sha1_hex(&body));
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn a_terminated_upload_leaves_nothing_in_the_bucket() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let body = data(6 * MIB);
    let loc = create(&srv, "gone.bin", 8 * MIB).await;
    patch(&srv, &loc, &body, 0, body.len()).await;
    assert_eq!(
        leftovers(&garage).await.0.len(),
        1,
        "a multipart upload is open"
    );
    let res = srv
        .admin()
        .tus_terminate_request(&loc)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
    assert_eq!(objects(&garage).await, Vec::<String>::new());
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn an_expired_upload_is_swept_with_its_multipart_upload_and_tail() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let body = data(6 * MIB);
    let loc = create(&srv, "old.bin", 8 * MIB).await;
    patch(&srv, &loc, &body, 0, body.len()).await;
    srv.advance(srv.state.config().upload_expiry + Duration::from_secs(1));
    let removed = srv.state.tus().clean_expired().await.expect("sweep");
    assert_eq!(removed, 1);
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
    assert_eq!(objects(&garage).await, Vec::<String>::new());
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn a_completion_refused_by_a_lock_after_its_seal_completes_once_the_lock_is_gone() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let sid = srv.shared_project_space().await;
    let root = format!("{}/", srv.space_url(&sid));
    let body = data(11 * MIB + 3);
    let created = srv
        .admin()
        .tus_create(&root, body.len() as u64, &[("filename", "docs/f.bin")])
        .await;
    let loc = created.location().to_string();
    patch(&srv, &loc, &body, 0, 6 * MIB).await;
    let bob = srv.client_as("bob", "bob-pw");
    let token = bob.lock(&format!("{root}docs")).await;

    // The completing PATCH seals the bytes (the multipart upload is completed), then the
    // commit meets bob's lock: nothing is acknowledged.
    let res = srv
        .admin()
        .tus_patch(&loc, 6 * MIB as u64, body[6 * MIB..].to_vec())
        .await;
    assert_eq!(res.status, StatusCode::LOCKED);
    assert_eq!(
        srv.admin().tus_head(&loc).await.offset,
        Some(6 * MIB as u64)
    );

    let res = bob
        .request("UNLOCK", &format!("{root}docs"))
        .header("Lock-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The same bytes again: the staged bytes are rebuilt from the sealed object.
    patch(&srv, &loc, &body, 6 * MIB, body.len()).await;
    let (sha1, stored) = recorded(&srv, &sid, "docs/f.bin").await;
    assert!(stored == body, "the object holds the uploaded bytes");
    assert_eq!(sha1, sha1_hex(&body));
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
    assert_eq!(objects(&garage).await.len(), 1, "only the file's blob");
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn a_concatenation_of_partial_uploads_becomes_one_object_and_leaves_nothing_staged() {
    use spacedav::tus::headers::{TUS_RESUMABLE, UPLOAD_CONCAT, UPLOAD_LENGTH, VERSION};
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let sid = srv.admin_space().await;
    let root = format!("{}/", srv.space_url(&sid));
    let c = srv.admin();
    let body = data(7 * MIB + 9);
    let split = 6 * MIB + 1;
    let mut parts = Vec::new();
    for piece in [&body[..split], &body[split..]] {
        let res = c
            .request("POST", &root)
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_LENGTH, piece.len())
            .header(UPLOAD_CONCAT, "partial")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let loc = res.headers()["location"].to_str().unwrap().to_string();
        patch(&srv, &loc, piece, 0, piece.len()).await;
        parts.push(loc);
    }
    let res = c
        .request("POST", &root)
        .header(TUS_RESUMABLE, VERSION)
        .header(UPLOAD_CONCAT, format!("final;{}", parts.join(" ")))
        .header(
            spacedav::tus::headers::UPLOAD_METADATA,
            super::common::client::tus_metadata(&[("filename", "joined.bin")]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (sha1, stored) = recorded(&srv, &sid, "joined.bin").await;
    assert!(
        stored == body,
        "the object holds both parts' bytes in order"
    );
    assert_eq!(sha1, sha1_hex(&body));
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
    assert_eq!(
        objects(&garage).await.len(),
        1,
        "only the joined file's blob"
    );
}

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn the_blob_sweep_aborts_a_multipart_upload_nothing_references_and_keeps_an_open_uploads() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let store = srv.state.store();
    let body = data(8 * MIB);
    let loc = create(&srv, "open.bin", body.len()).await;
    patch(&srv, &loc, &body, 0, 6 * MIB).await;
    // A PUT whose process died after its first part: its multipart upload stays open.
    let mut sink = store.blobs().create(Some(20 * MIB as u64)).await.unwrap();
    sink.write(&data(6 * MIB)).await.unwrap();
    std::mem::forget(sink);
    assert_eq!(leftovers(&garage).await.0.len(), 2);

    assert_eq!(store.sweep_blobs(Duration::ZERO).await.unwrap(), 1);
    let (uploads, tails) = leftovers(&garage).await;
    assert_eq!(
        (uploads.len(), tails.len()),
        (1, 1),
        "the open upload keeps its staging"
    );
    patch(&srv, &loc, &body, 6 * MIB, body.len()).await;
    let sid = srv.admin_space().await;
    let (sha1, stored) = recorded(&srv, &sid, "open.bin").await;
    assert!(stored == body, "the object holds the uploaded bytes");
    assert_eq!(sha1, sha1_hex(&body));
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
}
