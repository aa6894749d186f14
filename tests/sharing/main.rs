//! Sharing (issue 12) over HTTP against a real server: OCS shares and links, public-files
//! WebDAV within a link's permissions, passwords and their throttle, file drops, received
//! shares, re-sharing limits and quota.

#[path = "../common/mod.rs"]
mod common;

mod capabilities;
mod graph;
mod jail;
mod links;
mod mounts;
mod policy;
mod roles;
mod shares;
mod uploads;

use common::{ADMIN_PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The OCS v2 share collection.
pub const SHARES: &str = "/ocs/v2.php/apps/files_sharing/api/v1/shares";

/// `GET` the OCS v2 share list as `who` with `query` (`shared_with_me=true`, `path=…`); returns
/// the whole JSON answer.
pub async fn ocs_list(srv: &TestServer, who: (&str, &str), query: &str) -> Value {
    srv.client()
        .get(srv.url(&format!("{SHARES}?format=json&{query}")))
        .basic_auth(who.0, Some(who.1))
        .send()
        .await
        .expect("GET shares")
        .json()
        .await
        .expect("json")
}

/// `DELETE` OCS share `id` as `who`; returns the HTTP status.
pub async fn ocs_delete(srv: &TestServer, who: (&str, &str), id: &str) -> StatusCode {
    srv.client()
        .delete(srv.url(&format!("{SHARES}/{id}")))
        .basic_auth(who.0, Some(who.1))
        .send()
        .await
        .expect("DELETE share")
        .status()
}

/// `POST` an OCS v2 share as `user`; returns (HTTP status, `ocs.data`).
pub async fn ocs_share(
    srv: &TestServer,
    user: (&str, &str),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = srv
        .client()
        .post(srv.url(&format!("{SHARES}?format=json")))
        .basic_auth(user.0, Some(user.1))
        .form(form)
        .send()
        .await
        .expect("POST share");
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    (status, body["ocs"]["data"].clone())
}

/// `(status, JSON body or null)` of a Graph request (`/graph/v1beta1{path}`) as `who`.
pub async fn graph(
    srv: &TestServer,
    who: (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = srv
        .client()
        .request(method, srv.url(&format!("/graph/v1beta1{path}")))
        .basic_auth(who.0, Some(who.1));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("Graph request");
    let status = res.status();
    let text = res.text().await.expect("Graph body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The space id and resource id of `path` in the admin's personal space.
pub async fn admin_ids(srv: &TestServer, path: &str) -> (String, String) {
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.expect("admin");
    let path = spacedav::spaces::SpacePath::parse(path).expect("space path");
    let node = store.resolve(admin.id.0, &path).await.expect("node");
    let sid = store.space_id(admin.id.0);
    (sid.to_string(), format!("{sid}!{}", node.id.0))
}

/// `/drives/{sid}/items/{rid}` of `path` in the admin's personal space.
pub async fn admin_item(srv: &TestServer, path: &str) -> String {
    let (sid, rid) = admin_ids(srv, path).await;
    format!("/drives/{sid}/items/{rid}")
}

/// Delete, through Graph as ownCloud Web does, the admin's link with `token` on `path`.
pub async fn delete_link_through_graph(srv: &TestServer, path: &str, token: &str) {
    let permissions = format!("{}/permissions", admin_item(srv, path).await);
    let (_, perms) = graph(srv, ADMIN, Method::GET, &permissions, None).await;
    let pid = perms["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["link"]["webUrl"].as_str().unwrap().ends_with(token))
        .expect("the link's permission")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("{permissions}/{pid}");
    let (status, _) = graph(srv, ADMIN, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// `POST` an OCS user share of the admin's `path` with `user` and OCS `perms`; returns its
/// `ocs.data`.
pub async fn share_with(srv: &TestServer, path: &str, user: &str, perms: &str) -> Value {
    let form = [
        ("shareType", "0"),
        ("path", path),
        ("shareWith", user),
        ("permissions", perms),
    ];
    let (status, data) = ocs_share(srv, ADMIN, &form).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    data
}

/// The admin's credentials.
pub const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);

/// The URL of `path` in the admin's personal space over `/remote.php/webdav`.
fn admin_url(srv: &TestServer, path: &str) -> String {
    srv.url(&format!("/remote.php/webdav{path}"))
}

/// `PUT` a file into the admin's personal space over `/remote.php/webdav`.
pub async fn put_admin(srv: &TestServer, path: &str, body: &[u8]) {
    let res = srv
        .admin()
        .put(&admin_url(srv, path), body.to_vec(), None)
        .await;
    assert!(res.status().is_success(), "PUT {path}: {}", res.status());
}

/// `GET` of `path` in the admin's personal space, as the admin: what the owner sees.
pub async fn get_admin(srv: &TestServer, path: &str) -> (StatusCode, Vec<u8>) {
    srv.admin().get(&admin_url(srv, path)).await
}

/// `MKCOL` in the admin's personal space.
pub async fn mkcol_admin(srv: &TestServer, path: &str) {
    let status = srv.admin().mkcol(&admin_url(srv, path)).await;
    assert_eq!(status, StatusCode::CREATED, "MKCOL {path}");
}

/// A public link on `path` of the admin with `perms`; returns its token and OCS id.
pub async fn link(
    srv: &TestServer,
    path: &str,
    perms: &str,
    password: Option<&str>,
) -> (String, i64) {
    let mut form = vec![("shareType", "3"), ("path", path), ("permissions", perms)];
    if let Some(p) = password {
        form.push(("password", p));
    }
    let (status, data) = ocs_share(srv, ADMIN, &form).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let id = data["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("integer id");
    (data["token"].as_str().expect("token").to_string(), id)
}
