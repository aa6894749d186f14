//! The roles Web offers for files and folders (oCIS's unified role ids from
//! `roleDefinitions`), the uploader among them: what invite accepts, how OCS bits map to them,
//! and what the uploader may and may not do over WebDAV and tus.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::common::client::Client;
use crate::{ADMIN, admin_item, get_admin, link, mkcol_admin, ocs_list, put_admin};

const VIEWER: &str = "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5";
const UPLOADER: &str = "1c996275-f1c9-4e71-abdf-a42f6495e960";
const EDITOR: &str = "fb6c3e19-e378-47e5-b277-9732f9de6e21";
const FILE_EDITOR: &str = "2d00ce52-1fc2-4dbc-8b95-a73b73395f5a";

/// A Graph request as the admin: (status, JSON body).
async fn graph(srv: &TestServer, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, v) = crate::graph(srv, ADMIN, method, path, body).await;
    (status.as_u16(), v)
}

fn role_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn web_is_offered_the_item_roles_that_fit_the_item() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/f").await;
    put_admin(&srv, "/a.txt", b"a").await;
    let (_, defs) = graph(
        &srv,
        Method::GET,
        "/roleManagement/permissions/roleDefinitions",
        None,
    )
    .await;
    let all = role_ids(&defs);
    for id in [VIEWER, UPLOADER, EDITOR, FILE_EDITOR] {
        assert!(all.contains(&id.to_string()), "{id} in {defs:#}");
    }
    let uploader = defs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == UPLOADER)
        .unwrap();
    assert_eq!(uploader["displayName"], "Can upload");
    assert_eq!(
        uploader["rolePermissions"][0]["condition"],
        "exists @Resource.Folder"
    );
    let (_, folder) = graph(
        &srv,
        Method::GET,
        &format!("{}/permissions", admin_item(&srv, "/f").await),
        None,
    )
    .await;
    assert_eq!(
        role_ids(&folder["@libre.graph.permissions.roles.allowedValues"]),
        [VIEWER, UPLOADER, EDITOR]
    );
    let (_, file) = graph(
        &srv,
        Method::GET,
        &format!("{}/permissions", admin_item(&srv, "/a.txt").await),
        None,
    )
    .await;
    assert_eq!(
        role_ids(&file["@libre.graph.permissions.roles.allowedValues"]),
        [VIEWER, FILE_EDITOR]
    );
}

#[tokio::test]
async fn an_uploader_adds_files_but_cannot_overwrite_move_or_delete() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "bob-pw").await;
    mkcol_admin(&srv, "/inbox").await;
    put_admin(&srv, "/inbox/old.txt", b"old").await;
    put_admin(&srv, "/note.txt", b"n").await;
    let recipients =
        json!([{"objectId": bob.id.to_string(), "@libre.graph.recipient.type": "user"}]);
    // The uploader role is for folders only.
    let (status, body) = graph(
        &srv,
        Method::POST,
        &format!("{}/invite", admin_item(&srv, "/note.txt").await),
        Some(json!({"recipients": recipients, "roles": [UPLOADER]})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = graph(
        &srv,
        Method::POST,
        &format!("{}/invite", admin_item(&srv, "/inbox").await),
        Some(json!({"recipients": recipients, "roles": [UPLOADER]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"][0]["roles"], json!([UPLOADER]));
    // OCS shows the same share with read + create.
    let listed = ocs_list(&srv, ADMIN, "path=/inbox").await;
    assert_eq!(listed["ocs"]["data"][0]["permissions"], 5);

    let jail = srv.url(
        "/remote.php/dav/spaces/a0ca6a90-a365-4782-871e-d44447bbc668%24a0ca6a90-a365-4782-871e-d44447bbc668/inbox",
    );
    let c = srv.client();
    let req = |m: &str, path: &str| {
        c.request(
            Method::from_bytes(m.as_bytes()).unwrap(),
            format!("{jail}{path}"),
        )
        .basic_auth("bob", Some("bob-pw"))
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    let listing = req("PROPFIND", "/")
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status().as_u16(), 207);
    // The letters say what the role allows: add to the folder, nothing on its files.
    let xml = listing.text().await.unwrap();
    assert!(
        xml.contains("<oc:permissions>SCK</oc:permissions>"),
        "{xml}"
    );
    assert!(xml.contains("<oc:permissions>S</oc:permissions>"), "{xml}");
    assert!(!xml.contains("DNV"), "{xml}");
    assert_eq!(
        req("GET", "/old.txt")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "old"
    );
    assert_eq!(
        status(req("PUT", "/new.txt").body("new").send().await.unwrap()),
        201
    );
    assert_eq!(status(req("MKCOL", "/sub").send().await.unwrap()), 201);
    assert_eq!(
        status(req("PUT", "/old.txt").body("over").send().await.unwrap()),
        403
    );
    assert_eq!(status(req("DELETE", "/old.txt").send().await.unwrap()), 403);
    let mv = req("MOVE", "/old.txt")
        .header("Destination", format!("{jail}/moved.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(mv), 403);
    let bob = srv.client_as("bob", "bob-pw");
    let tus = |name: &'static str| {
        bob.tus_upload_request(&format!("{jail}/"), b"tus".to_vec(), &[("filename", name)])
    };
    assert_eq!(status(tus("t.txt").send().await.unwrap()), 201);
    assert_eq!(status(tus("old.txt").send().await.unwrap()), 403);
    let (_, own) = get_admin(&srv, "/inbox/old.txt").await;
    assert_eq!(own, b"old", "nothing overwrote it");
}

#[tokio::test]
async fn an_upload_link_cannot_overwrite_through_tus() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/up").await;
    put_admin(&srv, "/up/keep.txt", b"keep").await;
    let (token, _) = link(&srv, "/up", "5", None).await;
    let folder = srv.url(&format!("/remote.php/dav/public-files/{token}/"));
    let anonymous = Client::anonymous();
    let post = |name: &str| {
        anonymous
            .tus_upload_request(&folder, b"x".to_vec(), &[("filename", name)])
            .send()
    };
    assert_eq!(
        post("keep.txt").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("fresh.txt").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(get_admin(&srv, "/up/keep.txt").await.1, b"keep");
    // Graph calls the OCS link of read + create an upload link.
    let (_, perms) = graph(
        &srv,
        Method::GET,
        &format!("{}/permissions", admin_item(&srv, "/up").await),
        None,
    )
    .await;
    assert_eq!(perms["value"][0]["link"]["type"], "upload", "{perms}");
}
