//! The "Shares" space as oCIS exposes it: the virtual drive and one mount point drive per
//! received share in `me/drives`, `spaces.share_jail` in the capabilities, and WebDAV on
//! received files and folders through the jail (by name) and through the mount ids
//! (`{jail}!{share id}`), within the role: GET, PUT and tus where it allows, 403/404 where not.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::{ADMIN, get_admin, mkcol_admin, put_admin};

pub(crate) const JAIL: &str =
    "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";
pub(crate) const BOB: (&str, &str) = ("bob", "bob-pw");

pub(crate) async fn share_with_bob(srv: &TestServer, path: &str, perms: &str) {
    crate::share_with(srv, path, BOB.0, perms).await;
}

pub(crate) async fn bob_drives(srv: &TestServer, query: &str) -> Vec<Value> {
    let res = srv
        .client()
        .get(srv.url(&format!("/graph/v1.0/me/drives{query}")))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    v["value"].as_array().unwrap().clone()
}

/// `(status, body)` of a request as bob.
pub(crate) async fn as_bob(
    srv: &TestServer,
    method: &str,
    url: &str,
    body: &'static str,
) -> (u16, String) {
    let mut req = srv
        .client()
        .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth(BOB.0, Some(BOB.1));
    if method == "PROPFIND" {
        req = req.header("Depth", "1");
    }
    let res = req.body(body).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A one-request tus upload (creation-with-upload) of `body` as `filename` into `folder_url`.
async fn tus_as_bob(srv: &TestServer, folder_url: &str, filename: &str, body: &'static str) -> u16 {
    let meta = [("filename", filename)];
    let bob = srv.client_as(BOB.0, BOB.1);
    let created = bob.tus_upload(folder_url, body.into(), &meta).await;
    created.status.as_u16()
}

async fn admin_get(srv: &TestServer, path: &str) -> String {
    String::from_utf8(get_admin(srv, path).await.1).unwrap()
}

#[tokio::test]
async fn me_drives_lists_the_shares_drive_and_a_mount_point_per_received_share() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    let drives = bob_drives(&srv, "").await;
    let beta: Value = srv
        .client()
        .get(srv.url("/graph/v1beta1/me/drives"))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = |v: &[Value]| v.iter().map(|d| d["id"].clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(beta["value"].as_array().unwrap()),
        ids(&drives),
        "v1beta1 lists the same drives"
    );
    let shares: Vec<_> = drives.iter().filter(|d| d["id"] == JAIL).collect();
    assert_eq!(shares.len(), 1, "{drives:#?}");
    assert_eq!(shares[0]["driveType"], "virtual");
    assert_eq!(shares[0]["name"], "Shares");
    let before = shares[0]["root"]["eTag"].clone();
    assert!(
        shares[0]["root"]["webDavUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/dav/spaces/{JAIL}"))
    );

    mkcol_admin(&srv, "/team").await;
    put_admin(&srv, "/report.txt", b"numbers").await;
    share_with_bob(&srv, "/team", "15").await;
    share_with_bob(&srv, "/report.txt", "3").await;
    let mounts = bob_drives(&srv, "?$filter=driveType eq 'mountpoint'").await;
    assert_eq!(mounts.len(), 2, "{mounts:#?}");
    let names: Vec<_> = mounts.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["team", "report.txt"]);
    for d in &mounts {
        let id = d["id"].as_str().unwrap();
        assert!(id.starts_with(&format!("{JAIL}!")), "{id}");
        assert_eq!(d["root"]["id"], id);
        assert!(
            d["root"]["remoteItem"]["id"]
                .as_str()
                .unwrap()
                .contains('!')
        );
        assert!(d.get("quota").is_none(), "{d}");
    }
    let after = bob_drives(&srv, "?$filter=driveType eq virtual").await;
    assert_eq!(after.len(), 1);
    assert_ne!(
        after[0]["root"]["eTag"], before,
        "the jail's etag follows its mounts"
    );
    // sharedWithMe names the same mounts, with the same ids.
    let with_me: Value = srv
        .client()
        .get(srv.url("/graph/v1beta1/me/drive/sharedWithMe"))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = with_me["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(
        ids,
        mounts.iter().map(|d| d["id"].clone()).collect::<Vec<_>>()
    );
    // One drive each, by id; Web reads a share space's actions from its mount item.
    let id = mounts[0]["id"].as_str().unwrap();
    let one: Value = srv
        .client()
        .get(srv.url(&format!("/graph/v1beta1/drives/{id}")))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], "team");
    let item: Value = srv
        .client()
        .get(srv.url(&format!(
            "/graph/v1beta1/drives/{}/items/{id}",
            JAIL.replace('$', "%24")
        )))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions = item["@libre.graph.permissions.actions"].as_array().unwrap();
    assert!(
        actions.contains(&json!("libre.graph/driveItem/upload/create")),
        "{item}"
    );
    // The shared item's drive, as `remoteItem.rootId` names it, lists its permissions.
    let remote = &mounts[0]["root"]["remoteItem"];
    let perms = srv
        .client()
        .get(srv.url(&format!(
            "/graph/v1beta1/drives/{}/items/{}/permissions",
            remote["rootId"].as_str().unwrap(),
            remote["id"].as_str().unwrap()
        )))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(perms.status(), StatusCode::OK);
    // Someone else's mount id is nobody's drive.
    srv.add_user("carol", "carol-pw").await;
    let status = srv
        .client()
        .get(srv.url(&format!("/graph/v1beta1/drives/{id}")))
        .basic_auth("carol", Some("carol-pw"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_received_folder_is_served_through_its_mount_id_within_its_role() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    mkcol_admin(&srv, "/rw").await;
    mkcol_admin(&srv, "/ro").await;
    put_admin(&srv, "/ro/doc.txt", b"doc").await;
    share_with_bob(&srv, "/rw", "15").await;
    share_with_bob(&srv, "/ro", "1").await;
    let mounts = bob_drives(&srv, "?$filter=driveType eq mountpoint").await;
    let url_of = |name: &str| {
        let d = mounts.iter().find(|d| d["name"] == name).unwrap();
        d["root"]["webDavUrl"].as_str().unwrap().replace('$', "%24")
    };
    let (rw, ro) = (url_of("rw"), url_of("ro"));

    assert_eq!(
        as_bob(&srv, "PUT", &format!("{rw}/a.txt"), "a").await.0,
        201
    );
    assert_eq!(
        tus_as_bob(&srv, &format!("{rw}/"), "sub-t.txt", "tus").await,
        201
    );
    assert_eq!(admin_get(&srv, "/rw/sub-t.txt").await, "tus");
    // The two-step way: creation, then PATCH on the upload resource.
    let bob = srv.client_as(BOB.0, BOB.1);
    let created = bob
        .tus_create(&format!("{rw}/"), 5, &[("filename", "patched.txt")])
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let patched = bob
        .tus_patch(created.location(), 0, b"patch".to_vec())
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    assert_eq!(admin_get(&srv, "/rw/patched.txt").await, "patch");
    let (status, xml) = as_bob(&srv, "PROPFIND", &format!("{rw}/"), "").await;
    assert_eq!(status, 207);
    assert!(xml.contains("a.txt") && xml.contains("sub-t.txt"), "{xml}");

    assert_eq!(
        as_bob(&srv, "GET", &format!("{ro}/doc.txt"), "").await.1,
        "doc"
    );
    assert_eq!(
        as_bob(&srv, "PUT", &format!("{ro}/x.txt"), "x").await.0,
        403
    );
    assert_eq!(
        as_bob(&srv, "DELETE", &format!("{ro}/doc.txt"), "").await.0,
        403
    );
    assert_eq!(tus_as_bob(&srv, &format!("{ro}/"), "t.txt", "t").await, 403);
    assert_eq!(
        as_bob(&srv, "GET", &format!("{ro}/missing.txt"), "")
            .await
            .0,
        404
    );
    // A made-up mount id is not found.
    let made_up = format!(
        "{}/dav/spaces/{}!00000000-0000-0000-0000-000000000000/doc.txt",
        srv.url(""),
        JAIL.replace('$', "%24")
    );
    assert_eq!(as_bob(&srv, "GET", &made_up, "").await.0, 404);
}

#[tokio::test]
async fn a_received_file_is_listed_in_the_jail_and_replaced_only_where_the_role_allows() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    put_admin(&srv, "/edit.txt", b"v1").await;
    put_admin(&srv, "/read.txt", b"r1").await;
    put_admin(&srv, "/secret.txt", b"not shared").await;
    share_with_bob(&srv, "/edit.txt", "3").await;
    share_with_bob(&srv, "/read.txt", "1").await;
    let jail = srv.url(&format!(
        "/remote.php/dav/spaces/{}",
        JAIL.replace('$', "%24")
    ));

    let (status, xml) = as_bob(&srv, "PROPFIND", &format!("{jail}/"), "").await;
    assert_eq!(status, 207);
    assert!(
        xml.contains("<d:displayname>edit.txt</d:displayname>"),
        "{xml}"
    );
    assert!(
        xml.contains("<d:getcontentlength>2</d:getcontentlength>"),
        "{xml}"
    );
    assert!(xml.contains("<oc:permissions>SW</oc:permissions>"), "{xml}");
    assert!(xml.contains("<oc:permissions>S</oc:permissions>"), "{xml}");
    assert!(!xml.contains("secret"), "{xml}");

    // By name in the jail: read both, replace only the editable one (PUT and tus); nothing
    // else of the owner's folder is reachable, and nothing new lands in it.
    assert_eq!(
        as_bob(&srv, "GET", &format!("{jail}/read.txt"), "").await.1,
        "r1"
    );
    for (method, name, body, want) in [
        ("PUT", "edit.txt", "v2", 204),
        ("PUT", "read.txt", "no", 403),
        ("GET", "secret.txt", "", 404),
        ("PUT", "new.txt", "no", 404),
        ("DELETE", "edit.txt", "", 403),
    ] {
        let (status, answer) = as_bob(&srv, method, &format!("{jail}/{name}"), body).await;
        assert_eq!(status, want, "{method} {name}: {answer}");
    }
    assert_eq!(admin_get(&srv, "/edit.txt").await, "v2");
    for (name, body, want) in [
        ("edit.txt", "v3", 201),
        ("read.txt", "no", 403),
        ("new.txt", "no", 403),
    ] {
        let status = tus_as_bob(&srv, &format!("{jail}/"), name, body).await;
        assert_eq!(status, want, "tus {name}");
    }
    assert_eq!(admin_get(&srv, "/edit.txt").await, "v3");
    assert_eq!(admin_get(&srv, "/read.txt").await, "r1");

    // Through the file's mount id: the mount lists the file alone and replaces it.
    let mounts = bob_drives(&srv, "?$filter=driveType eq mountpoint").await;
    let d = mounts.iter().find(|d| d["name"] == "edit.txt").unwrap();
    let mount = d["root"]["webDavUrl"].as_str().unwrap().replace('$', "%24");
    let (status, xml) = as_bob(&srv, "PROPFIND", &format!("{mount}/"), "").await;
    assert_eq!(status, 207);
    assert!(xml.contains("edit.txt") && !xml.contains("secret"), "{xml}");
    assert_eq!(
        as_bob(&srv, "GET", &format!("{mount}/edit.txt"), "")
            .await
            .1,
        "v3"
    );
    assert_eq!(
        tus_as_bob(&srv, &format!("{mount}/"), "edit.txt", "v4").await,
        201
    );
    assert_eq!(admin_get(&srv, "/edit.txt").await, "v4");
    assert_eq!(
        tus_as_bob(&srv, &format!("{mount}/"), "other.txt", "no").await,
        403
    );
    // The folder holding the file is not the recipient's to lock or annotate.
    const LOCK: &str = "<?xml version=\"1.0\"?><d:lockinfo xmlns:d=\"DAV:\">\
        <d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype>\
        </d:lockinfo>";
    const PROPPATCH: &str = "<?xml version=\"1.0\"?><d:propertyupdate xmlns:d=\"DAV:\" \
        xmlns:x=\"urn:x\"><d:set><d:prop><x:tag>mine</x:tag></d:prop></d:set>\
        </d:propertyupdate>";
    for (method, body) in [
        ("LOCK", LOCK),
        ("PROPPATCH", PROPPATCH),
        ("DELETE", ""),
        ("MKCOL", ""),
    ] {
        let (status, answer) = as_bob(&srv, method, &format!("{mount}/"), body).await;
        assert_eq!(status, 403, "{method}: {answer}");
    }
    assert_eq!(
        as_bob(&srv, "GET", &format!("{mount}/secret.txt"), "")
            .await
            .0,
        404
    );
    assert_eq!(admin_get(&srv, "/secret.txt").await, "not shared");
}
