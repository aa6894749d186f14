//! File versions over WebDAV: `/dav/meta/{fileid}/v`.

use spacedav::spaces::Role;

use crate::common::TestServer;
use crate::common::dav::*;
use crate::*;

/// Put three contents at `root/v.txt`; the file id.
async fn three_versions(s: &TestServer, root: &str) -> String {
    for body in [&b"one"[..], b"two!", b"three"] {
        let r = req(s, "PUT", &format!("{root}/v.txt"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    file_id(s, &format!("{root}/v.txt")).await
}

/// The version keys (newest first) of file `id`.
async fn keys(s: &TestServer, id: &str) -> (String, Vec<String>) {
    let (st, xml) = propfind(s, &s.url(&format!("/remote.php/dav/meta/{id}/v")), "1", "").await;
    assert_eq!(st, 207, "{xml}");
    let keys = responses(&xml)
        .iter()
        .skip(1)
        .map(|b| href(b).rsplit('/').next().unwrap().to_string())
        .collect();
    (xml, keys)
}

#[tokio::test]
async fn every_overwrite_is_listed_as_a_version_and_each_can_be_downloaded() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let id = three_versions(&s, &root).await;
    let (xml, keys) = keys(&s, &id).await;
    assert_eq!(keys.len(), 2, "{xml}");
    let lengths: Vec<&str> = responses(&xml)
        .iter()
        .skip(1)
        .map(|b| between(b, "<d:getcontentlength>", "<").unwrap())
        .collect();
    assert_eq!(lengths, ["4", "3"], "newest first");
    assert!(responses(&xml)[1].contains("<d:getlastmodified>"));
    assert!(responses(&xml)[1].contains("<d:getetag>\""));
    for (key, want) in keys.iter().zip([&b"two!"[..], b"one"]) {
        let r = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/{key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), want);
    }
}

#[tokio::test]
async fn copying_a_version_onto_its_file_restores_it_and_keeps_the_current_content() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let id = three_versions(&s, &root).await;
    let (_, before) = keys(&s, &id).await;
    let (_, root_etag) = propfind(&s, &format!("{root}/"), "0", "<d:getetag/>").await;
    let oldest = before.last().unwrap();
    let res = req(
        &s,
        "COPY",
        &s.url(&format!("/remote.php/dav/meta/{id}/v/{oldest}")),
    )
    .header("Destination", format!("{root}/v.txt"))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["oc-fileid"].to_str().unwrap(), id);
    let get = req(&s, "GET", &format!("{root}/v.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.bytes().await.unwrap().as_ref(), b"one");
    assert_eq!(
        file_id(&s, &format!("{root}/v.txt")).await,
        id,
        "same file id"
    );
    let (_, after_etag) = propfind(&s, &format!("{root}/"), "0", "<d:getetag/>").await;
    assert_ne!(root_etag, after_etag, "etags propagate");
    let (_, after) = keys(&s, &id).await;
    assert_eq!(
        after.len(),
        2,
        "current content kept, restored one taken out"
    );
    let newest = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/{}", after[0])));
    assert_eq!(
        newest.send().await.unwrap().bytes().await.unwrap().as_ref(),
        b"three"
    );
}

#[tokio::test]
async fn web_restores_a_version_through_the_parent_folder_id() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/dir")).await;
    let id = three_versions(&s, &format!("{root}/dir")).await;
    let parent = file_id(&s, &format!("{root}/dir")).await;
    let (_, k) = keys(&s, &id).await;
    let res = req(
        &s,
        "COPY",
        &s.url(&format!("/dav/meta/{parent}/v/{}", k[1])),
    )
    .header("Destination", s.url("/dav/files/spaces/whatever/dir/v.txt"))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    let get = req(&s, "GET", &format!("{root}/dir/v.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.bytes().await.unwrap().as_ref(), b"one");
}

#[tokio::test]
async fn a_locked_file_is_not_restored_without_its_token() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let id = three_versions(&s, &root).await;
    let (_, k) = keys(&s, &id).await;
    let token = s.admin().lock(&format!("{root}/v.txt")).await;
    let copy = || req(&s, "COPY", &s.url(&format!("/dav/meta/{id}/v/{}", k[0])));
    assert_eq!(copy().send().await.unwrap().status(), 423);
    let get = req(&s, "GET", &format!("{root}/v.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.bytes().await.unwrap().as_ref(), b"three");
    let held = copy()
        .header("If", format!("({token})"))
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), 204);
}

#[tokio::test]
async fn versions_of_files_the_user_cannot_read_are_not_found_and_viewers_cannot_restore() {
    let s = TestServer::start().await;
    let sid = project(&s, &[("vera", Role::Viewer)]).await;
    s.add_user("stranger", PW).await;
    let id = three_versions(&s, &s.space_url(&sid)).await;
    let (_, k) = keys(&s, &id).await;
    let v = s.url(&format!("/dav/meta/{id}/v/{}", k[0]));
    assert_eq!(
        as_user(&s, "stranger", "GET", &v)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let list = as_user(
        &s,
        "stranger",
        "PROPFIND",
        &s.url(&format!("/dav/meta/{id}/v")),
    );
    assert_eq!(
        list.header("Depth", "1").send().await.unwrap().status(),
        404
    );
    assert_eq!(
        as_user(&s, "stranger", "COPY", &v)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        as_user(&s, "vera", "GET", &v)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        as_user(&s, "vera", "COPY", &v)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // A version key addressed through an unrelated file is not found either.
    let own = admin_root(&s).await;
    put(&s, &format!("{own}/other.txt"), b"o").await;
    let other = file_id(&s, &format!("{own}/other.txt")).await;
    let r = req(&s, "GET", &s.url(&format!("/dav/meta/{other}/v/{}", k[0])));
    assert_eq!(r.send().await.unwrap().status(), 404);
    let r = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/not-a-key")));
    assert_eq!(r.send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn moving_a_file_onto_another_keeps_the_replaced_content_as_a_version() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/target.txt"), b"replaced").await;
    put(&s, &format!("{root}/src.txt"), b"moved").await;
    let res = req(&s, "MOVE", &format!("{root}/src.txt"))
        .header("Destination", format!("{root}/target.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let id = file_id(&s, &format!("{root}/target.txt")).await;
    let (_, k) = keys(&s, &id).await;
    assert_eq!(k.len(), 1);
    let v = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/{}", k[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(v.bytes().await.unwrap().as_ref(), b"replaced");
}

#[tokio::test]
async fn version_retention_keeps_the_newest_and_drops_the_old() {
    // Counts blob files: contents go to the blob store, none inline (tus/inline.rs
    // checks that inline contents are freed alike).
    let s = TestServer::start_with(|c| c.inline_max_size = 0).await;
    let root = admin_root(&s).await;
    let id = three_versions(&s, &root).await;
    let store = s.state.store();
    assert_eq!(
        store.expire_versions(1, 0).await.unwrap(),
        1,
        "beyond max_count"
    );
    let (_, k) = keys(&s, &id).await;
    assert_eq!(k.len(), 1);
    let v = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/{}", k[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        v.bytes().await.unwrap().as_ref(),
        b"two!",
        "the newest stays"
    );
    assert_eq!(
        store.expire_versions(100, i64::MAX).await.unwrap(),
        1,
        "past max_age"
    );
    assert!(keys(&s, &id).await.1.is_empty());
    assert_eq!(
        store.blobs().list().await.unwrap().len(),
        1,
        "only the current content"
    );
}

#[tokio::test]
async fn a_tus_upload_over_a_file_keeps_the_previous_content_as_a_version() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/t.txt"), b"before tus").await;
    let meta = [("filename", "t.txt")];
    let res = s
        .admin()
        .tus_upload(&format!("{root}/"), b"after tus".to_vec(), &meta)
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.offset, Some(9));
    let id = file_id(&s, &format!("{root}/t.txt")).await;
    let (_, k) = keys(&s, &id).await;
    assert_eq!(k.len(), 1);
    let v = req(&s, "GET", &s.url(&format!("/dav/meta/{id}/v/{}", k[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(v.bytes().await.unwrap().as_ref(), b"before tus");
}
