//! The trash bin of a space over WebDAV.

use spacedav::spaces::{Mtime, Role};

use crate::common::TestServer;
use crate::common::dav::*;
use crate::*;

#[tokio::test]
async fn a_deleted_folder_is_listed_in_the_trash_and_restores_with_its_ids() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    assert_eq!(mkcol(&s, &format!("{root}/docs")).await.status(), 201);
    assert_eq!(
        put(&s, &format!("{root}/docs/x.txt"), b"hello")
            .await
            .status(),
        201
    );
    let folder_id = file_id(&s, &format!("{root}/docs")).await;
    let file = file_id(&s, &format!("{root}/docs/x.txt")).await;

    let del = req(&s, "DELETE", &format!("{root}/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let (st, _) = propfind(&s, &format!("{root}/docs"), "0", "").await;
    assert_eq!(st, 404, "gone from the tree");

    let (st, xml) = trash_list(&s, &sid).await;
    assert_eq!(st, 207);
    let keys = item_keys(&xml);
    assert_eq!(keys.len(), 1, "{xml}");
    let key = &keys[0];
    assert!(folder_id.ends_with(key.as_str()), "the key is the node id");
    let item = responses(&xml)[1];
    assert!(item.contains("<oc:trashbin-original-filename>docs</oc:trashbin-original-filename>"));
    assert!(item.contains("<oc:trashbin-original-location>docs</oc:trashbin-original-location>"));
    assert!(item.contains("<d:resourcetype><d:collection/></d:resourcetype>"));
    assert!(item.contains("<oc:size>5</oc:size>"));
    let stamp: i64 = between(item, "<oc:trashbin-delete-timestamp>", "<")
        .unwrap()
        .parse()
        .unwrap();
    assert!((Mtime::now().unix_secs() - stamp).abs() < 3600);
    assert!(
        between(item, "<oc:trashbin-delete-datetime>", "<")
            .unwrap()
            .ends_with("+0000")
    );

    // Depth 1 inside the trashed folder lists its children.
    let (st, inner) = propfind(
        &s,
        &format!("{}/{key}/", trash_url(&s, &sid)),
        "1",
        "<oc:trashbin-original-location/><d:getcontentlength/>",
    )
    .await;
    assert_eq!(st, 207);
    assert_eq!(responses(&inner).len(), 2, "{inner}");
    assert!(
        inner.contains("<oc:trashbin-original-location>docs/x.txt</oc:trashbin-original-location>")
    );
    assert!(inner.contains("<d:getcontentlength>5</d:getcontentlength>"));

    let res = req(&s, "MOVE", &format!("{}/{key}", trash_url(&s, &sid)))
        .header("Destination", format!("{root}/docs"))
        .header("Overwrite", "F")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["oc-fileid"].to_str().unwrap(), folder_id);
    assert_eq!(
        file_id(&s, &format!("{root}/docs/x.txt")).await,
        file,
        "ids kept"
    );
    let body = req(&s, "GET", &format!("{root}/docs/x.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.bytes().await.unwrap().as_ref(), b"hello");
    assert!(item_keys(&trash_list(&s, &sid).await.1).is_empty());
}

#[tokio::test]
async fn restoring_onto_an_existing_file_needs_overwrite_and_trashes_what_it_replaces() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"old").await;
    req(&s, "DELETE", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    put(&s, &format!("{root}/f.txt"), b"new").await;
    let key = item_keys(&trash_list(&s, &sid).await.1).remove(0);
    let restore = |overwrite: &'static str| {
        req(&s, "MOVE", &format!("{}/{key}", trash_url(&s, &sid)))
            .header("Destination", format!("{root}/f.txt"))
            .header("Overwrite", overwrite)
            .send()
    };
    assert_eq!(restore("F").await.unwrap().status(), 412);
    let get = || async {
        req(&s, "GET", &format!("{root}/f.txt"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    };
    assert_eq!(get().await.as_ref(), b"new", "nothing changed");
    assert_eq!(restore("X").await.unwrap().status(), 400);
    assert_eq!(restore("T").await.unwrap().status(), 204);
    assert_eq!(get().await.as_ref(), b"old");
    let (_, xml) = trash_list(&s, &sid).await;
    assert_eq!(
        item_keys(&xml).len(),
        1,
        "the replaced file is in the trash: {xml}"
    );
}

#[tokio::test]
async fn restoring_into_a_missing_folder_is_409_and_elsewhere_works() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/a")).await;
    put(&s, &format!("{root}/a/f.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/a/f.txt"))
        .send()
        .await
        .unwrap();
    req(&s, "DELETE", &format!("{root}/a"))
        .send()
        .await
        .unwrap();
    let (_, xml) = trash_list(&s, &sid).await;
    let file_key = responses(&xml)
        .iter()
        .find(|b| b.contains("<oc:trashbin-original-location>a/f.txt<"))
        .map(|b| href(b).rsplit('/').next().unwrap().to_string())
        .unwrap();
    let url = format!("{}/{file_key}", trash_url(&s, &sid));
    let to = |dest: String| req(&s, "MOVE", &url).header("Destination", dest).send();
    assert_eq!(to(format!("{root}/a/f.txt")).await.unwrap().status(), 409);
    assert_eq!(
        to(format!("{root}/elsewhere.txt")).await.unwrap().status(),
        201
    );
    let (st, _) = propfind(&s, &format!("{root}/elsewhere.txt"), "0", "").await;
    assert_eq!(st, 207);
}

#[tokio::test]
async fn purging_an_item_and_emptying_the_bin_remove_them_for_good() {
    // Counts blob files: contents go to the blob store, none inline (tus/inline.rs
    // checks that inline contents are freed alike).
    let s = TestServer::start_with(|c| c.inline_max_size = 0).await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    for name in ["a", "b", "c"] {
        put(&s, &format!("{root}/{name}.txt"), b"bytes").await;
        req(&s, "DELETE", &format!("{root}/{name}.txt"))
            .send()
            .await
            .unwrap();
    }
    let blobs = || async { s.state.store().blobs().list().await.unwrap().len() };
    assert_eq!(blobs().await, 3);
    let keys = item_keys(&trash_list(&s, &sid).await.1);
    let purge = req(
        &s,
        "DELETE",
        &format!("{}/{}", trash_url(&s, &sid), keys[0]),
    );
    assert_eq!(purge.send().await.unwrap().status(), 204);
    assert_eq!(item_keys(&trash_list(&s, &sid).await.1).len(), 2);
    assert_eq!(blobs().await, 2, "the purged file's blob is freed");
    let again = req(
        &s,
        "DELETE",
        &format!("{}/{}", trash_url(&s, &sid), keys[0]),
    );
    assert_eq!(again.send().await.unwrap().status(), 404);
    let empty = req(&s, "DELETE", &trash_url(&s, &sid))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 204);
    assert!(item_keys(&trash_list(&s, &sid).await.1).is_empty());
    assert_eq!(blobs().await, 0);
}

#[tokio::test]
async fn viewers_may_list_but_not_restore_or_purge_and_strangers_see_nothing() {
    let s = TestServer::start().await;
    let sid = project(&s, &[("vera", Role::Viewer), ("ed", Role::Editor)]).await;
    s.add_user("stranger", PW).await;
    let root = s.space_url(&sid);
    put(&s, &format!("{root}/f.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    let key = item_keys(&trash_list(&s, &sid).await.1).remove(0);
    let item = format!("{}/{key}", trash_url(&s, &sid));

    let list = |user: &'static str| {
        as_user(&s, user, "PROPFIND", &trash_url(&s, &sid))
            .header("Depth", "1")
            .send()
    };
    assert_eq!(list("vera").await.unwrap().status(), 207);
    assert_eq!(list("stranger").await.unwrap().status(), 404);
    let restore = |user: &'static str| {
        as_user(&s, user, "MOVE", &item)
            .header("Destination", format!("{root}/f.txt"))
            .send()
    };
    assert_eq!(restore("vera").await.unwrap().status(), 403);
    assert_eq!(
        as_user(&s, "vera", "DELETE", &item)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        as_user(&s, "vera", "DELETE", &trash_url(&s, &sid))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        as_user(&s, "stranger", "DELETE", &item)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(restore("ed").await.unwrap().status(), 201);

    // A trash item of another space is not found through this space's bin.
    let own = s.admin_space().await;
    put(&s, &format!("{}/g.txt", s.space_url(&own)), b"y").await;
    req(&s, "DELETE", &format!("{}/g.txt", s.space_url(&own)))
        .send()
        .await
        .unwrap();
    let other = item_keys(&trash_list(&s, &own).await.1).remove(0);
    let cross = req(&s, "DELETE", &format!("{}/{other}", trash_url(&s, &sid)));
    assert_eq!(cross.send().await.unwrap().status(), 404);
    let (st, _) = propfind(&s, &format!("{}/{other}", trash_url(&s, &sid)), "0", "").await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn trashed_bytes_leave_the_quota_and_a_restore_must_fit_again() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    s.state
        .store()
        .set_quota(sid.space, Some(10))
        .await
        .unwrap();
    put(&s, &format!("{root}/a.txt"), b"12345678").await;
    req(&s, "DELETE", &format!("{root}/a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(s.state.store().quota(sid.space).await.unwrap().used, 0);
    assert_eq!(
        put(&s, &format!("{root}/b.txt"), b"12345678")
            .await
            .status(),
        201
    );
    let key = item_keys(&trash_list(&s, &sid).await.1).remove(0);
    let res = req(&s, "MOVE", &format!("{}/{key}", trash_url(&s, &sid)))
        .header("Destination", format!("{root}/a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 507);
    assert_eq!(
        item_keys(&trash_list(&s, &sid).await.1),
        [key],
        "still in the trash"
    );
}

#[tokio::test]
async fn the_legacy_user_trash_root_serves_the_own_personal_space_only() {
    let s = TestServer::start().await;
    s.add_user("bob", PW).await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    let (st, xml) = propfind(&s, &s.url("/remote.php/dav/trash-bin/admin/"), "1", "").await;
    assert_eq!(st, 207);
    assert_eq!(item_keys(&xml).len(), 1, "{xml}");
    assert!(href(responses(&xml)[1]).starts_with("/remote.php/dav/trash-bin/admin/"));
    let other = as_user(
        &s,
        "bob",
        "PROPFIND",
        &s.url("/remote.php/dav/trash-bin/admin/"),
    );
    assert_eq!(
        other.header("Depth", "1").send().await.unwrap().status(),
        404
    );
    let (st, _) = propfind(&s, &s.url("/dav/spaces/trash-bin/not-a-space/"), "1", "").await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn retention_purges_old_items_and_frees_their_blobs() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    let store = s.state.store();
    assert_eq!(
        store.expire_trash(0).await.unwrap(),
        0,
        "younger than the cutoff"
    );
    let later = Mtime::now().0 + 1_000_000_000;
    assert_eq!(store.expire_trash(later).await.unwrap(), 1);
    assert!(item_keys(&trash_list(&s, &sid).await.1).is_empty());
    assert!(store.blobs().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sweeper_applies_the_configured_trash_and_version_retention() {
    const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
    // trash.retention stays at its default (30 days); versions.max_count is 2 here.
    let s = TestServer::start_with(|c| c.retention.versions_max_count = 2).await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    for body in ["1", "2", "3", "4"] {
        put(&s, &format!("{root}/v.txt"), body.as_bytes()).await;
    }
    let id = file_id(&s, &format!("{root}/v.txt")).await;
    put(&s, &format!("{root}/f.txt"), b"x").await;
    req(&s, "DELETE", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    let versions = || async {
        let (st, xml) = propfind(&s, &s.url(&format!("/dav/meta/{id}/v")), "1", "").await;
        assert_eq!(st, 207);
        responses(&xml).len() - 1
    };
    let trashed = || async { item_keys(&trash_list(&s, &sid).await.1).len() };
    assert_eq!((versions().await, trashed().await), (3, 1));
    let sweep = || spacedav::router::maintenance::sweep_once(&s.state);

    sweep().await;
    assert_eq!(versions().await, 2, "versions.max_count");
    s.advance(29 * DAY);
    sweep().await;
    assert_eq!(trashed().await, 1, "younger than trash.retention");
    s.advance(2 * DAY);
    sweep().await;
    assert_eq!(trashed().await, 0, "older than trash.retention");
    assert_eq!(versions().await, 2);
    s.advance(365 * DAY);
    sweep().await;
    assert_eq!(versions().await, 0, "older than versions.max_age");
    let get = req(&s, "GET", &format!("{root}/v.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.bytes().await.unwrap().as_ref(),
        b"4",
        "the file itself stays"
    );
}

#[tokio::test]
async fn a_restore_onto_or_into_a_locked_resource_needs_its_lock_token() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/locked")).await;
    put(&s, &format!("{root}/f.txt"), b"old").await;
    put(&s, &format!("{root}/g.txt"), b"g").await;
    for name in ["f.txt", "g.txt"] {
        req(&s, "DELETE", &format!("{root}/{name}"))
            .send()
            .await
            .unwrap();
    }
    put(&s, &format!("{root}/f.txt"), b"new").await;
    let (_, xml) = trash_list(&s, &sid).await;
    let key = |name: &str| key_of(&xml, name).unwrap();
    let s = &s;
    let file_token = s.admin().lock(&format!("{root}/f.txt")).await;
    let folder_token = s.admin().lock(&format!("{root}/locked")).await;
    let restore = |name: &str, dest: String, token: Option<&str>| {
        let mut r = req(s, "MOVE", &format!("{}/{}", trash_url(s, &sid), key(name)))
            .header("Destination", dest)
            .header("Overwrite", "T");
        if let Some(t) = token {
            r = r.header("If", format!("({t})"));
        }
        r.send()
    };
    let onto = restore("f.txt", format!("{root}/f.txt"), None)
        .await
        .unwrap();
    assert_eq!(onto.status(), 423);
    let into = restore("g.txt", format!("{root}/locked/g.txt"), None)
        .await
        .unwrap();
    assert_eq!(into.status(), 423);
    let get = req(s, "GET", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.bytes().await.unwrap().as_ref(),
        b"new",
        "nothing replaced"
    );
    assert_eq!(item_keys(&trash_list(s, &sid).await.1).len(), 2);
    let onto = restore("f.txt", format!("{root}/f.txt"), Some(&file_token))
        .await
        .unwrap();
    assert_eq!(onto.status(), 204);
    let into = restore("g.txt", format!("{root}/locked/g.txt"), Some(&folder_token))
        .await
        .unwrap();
    assert_eq!(into.status(), 201);

    // Replacing a folder: a lock on something inside it counts too.
    mkcol(s, &format!("{root}/dir")).await;
    req(s, "DELETE", &format!("{root}/dir"))
        .send()
        .await
        .unwrap();
    mkcol(s, &format!("{root}/dir")).await;
    put(s, &format!("{root}/dir/inner.txt"), b"inner").await;
    let inner_token = s.admin().lock(&format!("{root}/dir/inner.txt")).await;
    let (_, listing) = trash_list(s, &sid).await;
    let dir_key = key_of(&listing, "dir").unwrap();
    let over_dir = |token: Option<String>| {
        let mut r = req(s, "MOVE", &format!("{}/{dir_key}", trash_url(s, &sid)))
            .header("Destination", format!("{root}/dir"))
            .header("Overwrite", "T");
        if let Some(t) = token {
            r = r.header("If", format!("({t})"));
        }
        r.send()
    };
    assert_eq!(over_dir(None).await.unwrap().status(), 423);
    let get = req(s, "GET", &format!("{root}/dir/inner.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.bytes().await.unwrap().as_ref(),
        b"inner",
        "not replaced"
    );
    assert_eq!(over_dir(Some(inner_token)).await.unwrap().status(), 204);
}
