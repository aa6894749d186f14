//! Sharing through Graph as ownCloud Web does it: createLink, invite, permissions (list,
//! change, password, delete), sharedWithMe and sharedByMe, and the received share reached at
//! `/dav/spaces/{remoteItem.id}` (with a tus upload) until it is revoked.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestServer;
use crate::{ADMIN, admin_ids, get_admin, graph, mkcol_admin};

/// oCIS's item roles (Viewer, Editor for folders).
const VIEWER: &str = "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5";
const EDITOR: &str = "fb6c3e19-e378-47e5-b277-9732f9de6e21";
const MANAGER: &str = "312c0871-5ef7-4b3a-85b6-0e4074c64049";

#[tokio::test]
async fn web_creates_links_and_invites_and_the_recipient_uploads_until_revoked() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    let carol = srv.state.store().user_by_name("carol").await.unwrap();
    mkcol_admin(&srv, "/g").await;
    let (sid, rid) = admin_ids(&srv, "/g").await;
    let item = format!("/drives/{sid}/items/{rid}");

    let (status, link) = graph(
        &srv,
        ADMIN,
        Method::POST,
        &format!("{item}/createLink"),
        Some(json!({"type": "createOnly", "password": "pw-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["link"]["type"], "createOnly");
    assert_eq!(link["hasPassword"], true);
    let url = link["link"]["webUrl"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let pid = link["id"].as_str().unwrap();
    let (status, _) = graph(
        &srv,
        ADMIN,
        Method::POST,
        &format!("{item}/permissions/{pid}/setPassword"),
        Some(json!({"password": "pw-2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let put = srv
        .client()
        .put(srv.url(&format!("/remote.php/dav/public-files/{token}/dropped.txt")))
        .basic_auth("public", Some("pw-2"))
        .body("dropped")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let (status, bad) = graph(
        &srv,
        ADMIN,
        Method::POST,
        &format!("{item}/createLink"),
        Some(json!({"type": "everything"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    let (status, invited) = graph(
        &srv,
        ADMIN,
        Method::POST,
        &format!("{item}/invite"),
        Some(json!({
            "recipients": [{"objectId": bob.id.to_string(), "@libre.graph.recipient.type": "user"}],
            "roles": [EDITOR],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    let perm = &invited["value"][0];
    assert_eq!(perm["roles"], json!([EDITOR]));
    assert_eq!(perm["grantedToV2"]["user"]["id"], bob.id.to_string());
    let share_pid = perm["id"].as_str().unwrap().to_string();

    let (_, with_me) = graph(
        &srv,
        ("bob", "bob-pw"),
        Method::GET,
        "/me/drive/sharedWithMe",
        None,
    )
    .await;
    let received = &with_me["value"][0];
    assert_eq!(received["remoteItem"]["id"], rid);
    assert_eq!(received["parentReference"]["driveType"], "virtual");
    assert_eq!(
        received["remoteItem"]["permissions"][0]["invitation"]["invitedBy"]["user"]["displayName"],
        "Administrator"
    );
    let (_, by_me) = graph(&srv, ADMIN, Method::GET, "/me/drive/sharedByMe", None).await;
    assert_eq!(by_me["value"][0]["id"], rid);
    assert_eq!(
        by_me["value"][0]["permissions"].as_array().unwrap().len(),
        2
    );
    let (_, listed) = graph(
        &srv,
        ADMIN,
        Method::GET,
        &format!("{item}/permissions"),
        None,
    )
    .await;
    assert_eq!(listed["value"].as_array().unwrap().len(), 2);

    // Bob works in the share at /dav/spaces/{remoteItem.id}, tus included.
    let space = srv.url(&format!("/dav/spaces/{}", rid.replace('$', "%24")));
    let c = srv.client();
    let put = c
        .put(format!("{space}/bob.txt"))
        .basic_auth("bob", Some("bob-pw"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let tus = srv
        .client_as("bob", "bob-pw")
        .tus_upload(
            &format!("{space}/"),
            b"tu".to_vec(),
            &[("filename", "tus.txt")],
        )
        .await;
    assert_eq!(tus.status, StatusCode::CREATED);
    assert_eq!(get_admin(&srv, "/g/tus.txt").await.1, b"tu");

    // Bob cannot hand out more than he holds (editor: no share right).
    let (status, _) = graph(
        &srv,
        ("bob", "bob-pw"),
        Method::POST,
        &format!("{item}/invite"),
        Some(json!({
            "recipients": [{"objectId": carol.id.to_string()}], "roles": [MANAGER],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Down to viewer: no more writes; then revoked: nothing at all.
    let (status, patched) = graph(
        &srv,
        ADMIN,
        Method::PATCH,
        &format!("{item}/permissions/{share_pid}"),
        Some(json!({"roles": [VIEWER]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let put = c
        .put(format!("{space}/again.txt"))
        .basic_auth("bob", Some("bob-pw"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);
    let (status, _) = graph(
        &srv,
        ADMIN,
        Method::DELETE,
        &format!("{item}/permissions/{share_pid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let get = c
        .get(format!("{space}/bob.txt"))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    let (status, _) = graph(
        &srv,
        ("carol", "carol-pw"),
        Method::GET,
        &format!("{item}/permissions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn graph_sharing_refuses_unreadable_items_and_bad_bodies() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "bob-pw").await;
    srv.add_user("mallory", "m-pw").await;
    mkcol_admin(&srv, "/private").await;
    let (sid, rid) = admin_ids(&srv, "/private").await;
    let item = format!("/drives/{sid}/items/{rid}");
    let recipients = json!([{"objectId": bob.id.to_string()}]);
    let mallory = ("mallory", "m-pw");
    // Not hers to read: not there at all.
    for (path, body) in [
        (format!("{item}/createLink"), json!({"type": "view"})),
        (
            format!("{item}/invite"),
            json!({"recipients": recipients, "roles": [VIEWER]}),
        ),
    ] {
        let (status, body) = graph(&srv, mallory, Method::POST, &path, Some(body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    // The owner's malformed requests: clear 400s, nothing created.
    for body in [
        json!({"recipients": [], "roles": [VIEWER]}),
        json!({"recipients": recipients, "roles": ["no-such-role"]}),
        json!({"recipients": recipients, "roles": []}),
        json!({"recipients": [{"objectId": "not-a-uuid"}], "roles": [VIEWER]}),
        json!({"roles": [VIEWER]}),
    ] {
        let (status, answer) = graph(
            &srv,
            ADMIN,
            Method::POST,
            &format!("{item}/invite"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalidRequest", "{body}");
    }
    let (status, _) = graph(
        &srv,
        ADMIN,
        Method::GET,
        &format!("{item}/permissions/00000000-0000-0000-0000-000000000000"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = graph(
        &srv,
        ADMIN,
        Method::GET,
        &format!("{item}/permissions"),
        None,
    )
    .await;
    assert_eq!(listed["value"], json!([]));
}

#[tokio::test]
async fn a_recipient_reshares_through_graph_only_within_the_role_received() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    let carol = srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/r").await;
    // bob may read and share, nothing more.
    crate::share_with(&srv, "/r", "bob", "17").await;
    let item = crate::admin_item(&srv, "/r").await;
    let bob = ("bob", "bob-pw");
    let invite = |role: &str| {
        json!({
            "recipients": [{"objectId": carol.id.to_string(), "@libre.graph.recipient.type": "user"}],
            "roles": [role],
        })
    };
    let (status, body) = graph(
        &srv,
        bob,
        Method::POST,
        &format!("{item}/invite"),
        Some(invite(EDITOR)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for kind in ["edit", "upload", "createOnly"] {
        let (status, body) = graph(
            &srv,
            bob,
            Method::POST,
            &format!("{item}/createLink"),
            Some(json!({"type": kind})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: {body}");
    }
    let (status, body) = graph(
        &srv,
        bob,
        Method::POST,
        &format!("{item}/invite"),
        Some(invite(VIEWER)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pid = body["value"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = graph(
        &srv,
        bob,
        Method::PATCH,
        &format!("{item}/permissions/{pid}"),
        Some(json!({"roles": [EDITOR]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = graph(
        &srv,
        bob,
        Method::POST,
        &format!("{item}/createLink"),
        Some(json!({"type": "view"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // What carol got is what bob gave: a viewer's share.
    let (_, with_me) = graph(
        &srv,
        ("carol", "carol-pw"),
        Method::GET,
        "/me/drive/sharedWithMe",
        None,
    )
    .await;
    assert_eq!(
        with_me["value"][0]["remoteItem"]["permissions"][0]["roles"],
        json!([VIEWER]),
        "{with_me}"
    );
}
