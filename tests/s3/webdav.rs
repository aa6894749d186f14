//! WebDAV on blobs in S3: PUT streams as a multipart upload (or one object below a part),
//! GET with Range is a ranged GET, COPY shares the blob, MOVE and DELETE move rows.

use reqwest::StatusCode;

use super::common::client::Transfer;
use super::common::garage::Garage;
use super::{MIB, data, leftovers, objects, recorded, server, sha1_hex};

#[tokio::test]
#[ignore = "real client: needs garage"]
async fn put_get_range_copy_move_and_delete_work_on_objects_in_the_bucket() {
    let garage = Garage::start().await;
    let srv = server(&garage).await;
    let sid = srv.admin_space().await;
    let c = srv.admin();
    let root = srv.space_url(&sid);
    let big = data(11 * MIB + 17);
    let small = b"a few bytes".to_vec();

    let res = c.put(&format!("{root}/big.bin"), big.clone(), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .put(&format!("{root}/small.txt"), small.clone(), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (sha1, stored) = recorded(&srv, &sid, "big.bin").await;
    assert!(stored == big, "the multipart object holds the PUT's bytes");
    assert_eq!(sha1, sha1_hex(&big));
    assert_eq!(
        c.get(&format!("{root}/small.txt")).await,
        (StatusCode::OK, small)
    );
    assert_eq!(objects(&garage).await.len(), 2);

    // A range across the boundary of the first two 5 MiB parts.
    let (from, to) = (5 * MIB - 10, 5 * MIB + 9);
    let res = c
        .request("GET", &format!("{root}/big.bin"))
        .header("Range", format!("bytes={from}-{to}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().to_vec(), big[from..=to].to_vec());

    let copied = format!("{root}/copy.bin");
    let copy = Transfer::Copy { overwrite: false };
    assert_eq!(
        c.transfer(copy, &format!("{root}/big.bin"), &copied).await,
        StatusCode::CREATED
    );
    assert_eq!(objects(&garage).await.len(), 2, "the copy shares the blob");
    let moved = format!("{root}/moved.bin");
    let mv = Transfer::Move { overwrite: false };
    assert_eq!(c.transfer(mv, &copied, &moved).await, StatusCode::CREATED);
    let (status, got) = c.get(&moved).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == big, "the moved copy reads the same bytes");

    assert_eq!(
        c.delete(&format!("{root}/big.bin")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("{root}/big.bin")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, got) = c.get(&moved).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == big, "deleting the original keeps the shared blob");
    assert_eq!(leftovers(&garage).await, (vec![], vec![]));
}
