//! `[sharing]` in the config: link passwords enforced per link kind, and expiry defaults and
//! limits for links and shares. Each setting is announced in `files_sharing` exactly as it is
//! enforced on OCS and Graph creation and update.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spacedav::config::SharingPolicy;
use spacedav::sharing::dates::format_rfc3339;

use crate::common::TestServer;
use crate::{ADMIN, admin_item, mkcol_admin, ocs_share, put_admin};

const DAY: i64 = 86_400 * 1_000_000_000;

fn days_ahead(days: i64) -> String {
    let now = spacedav::spaces::Mtime::now().0;
    format_rfc3339(now + days * DAY)
}

async fn sharing_caps(srv: &TestServer) -> Value {
    srv.capabilities().await["files_sharing"].take()
}

/// A Graph request as the admin: (status, JSON body).
async fn graph(srv: &TestServer, method: Method, path: &str, body: Value) -> (u16, Value) {
    let (status, v) = crate::graph(srv, ADMIN, method, path, Some(body)).await;
    (status.as_u16(), v)
}

async fn ocs_update(srv: &TestServer, id: &str, form: &[(&str, &str)]) -> StatusCode {
    srv.client()
        .put(srv.url(&format!(
            "/ocs/v2.php/apps/files_sharing/api/v1/shares/{id}?format=json"
        )))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn without_a_sharing_policy_nothing_is_enforced_or_announced() {
    let srv = TestServer::start().await;
    let caps = sharing_caps(&srv).await;
    for kind in [
        "read_only",
        "upload_only",
        "read_write",
        "read_write_delete",
    ] {
        assert_eq!(
            caps["public"]["password"]["enforced_for"][kind], false,
            "{kind}"
        );
    }
    assert_eq!(caps["public"]["expire_date"]["enabled"], false);
    assert_eq!(caps["user"]["expire_date"]["enabled"], false);
    put_admin(&srv, "/a.txt", b"a").await;
    let (status, data) = ocs_share(&srv, ADMIN, &[("shareType", "3"), ("path", "/a.txt")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(data["expiration"], "");
}

#[tokio::test]
async fn link_passwords_are_required_exactly_for_the_announced_kinds() {
    let srv = TestServer::start_with(|c| {
        c.sharing = SharingPolicy {
            link_password_enforced_for: vec!["read_only".into(), "read_write".into()],
            ..Default::default()
        }
    })
    .await;
    let caps = sharing_caps(&srv).await;
    let enforced = &caps["public"]["password"]["enforced_for"];
    assert_eq!(enforced["read_only"], true);
    assert_eq!(enforced["read_write"], true);
    assert_eq!(enforced["upload_only"], false);
    assert_eq!(enforced["read_write_delete"], false);
    assert_eq!(caps["public"]["password"]["enforced"], true);

    mkcol_admin(&srv, "/f").await;
    let link = |perms: &'static str, pw: Option<&'static str>| {
        let mut form = vec![("shareType", "3"), ("path", "/f"), ("permissions", perms)];
        if let Some(p) = pw {
            form.push(("password", p));
        }
        let srv = &srv;
        async move { ocs_share(srv, ADMIN, &form).await }
    };
    // OCS: view (1) and create-only (4) need one; upload (5) and edit (15) do not.
    let (status, body) = link("1", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(link("4", None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(link("5", None).await.0, StatusCode::OK);
    assert_eq!(link("15", None).await.0, StatusCode::OK);
    let (status, view) = link("1", Some("secret-1")).await;
    assert_eq!(status, StatusCode::OK);
    let view_id = view["id"].as_str().unwrap().to_string();
    // Removing the password of a view link, or narrowing an upload link to view without one.
    assert_eq!(
        ocs_update(&srv, &view_id, &[("password", "")]).await,
        StatusCode::BAD_REQUEST
    );
    let (_, upload) = link("5", None).await;
    let upload_id = upload["id"].as_str().unwrap();
    assert_eq!(
        ocs_update(&srv, upload_id, &[("permissions", "1")]).await,
        StatusCode::BAD_REQUEST
    );

    // Graph, as Web sends it.
    let at = admin_item(&srv, "/f").await;
    let (status, body) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "view"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalidRequest");
    let (status, _) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "createOnly"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, up) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "upload"}),
    )
    .await;
    assert_eq!(status, 200, "{up}");
    let pid = up["id"].as_str().unwrap();
    let (status, _) = graph(
        &srv,
        Method::PATCH,
        &format!("{at}/permissions/{pid}"),
        json!({"link": {"type": "view"}}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, v) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "view", "password": "secret-2"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = graph(
        &srv,
        Method::POST,
        &format!("{at}/permissions/{}/setPassword", v["id"].as_str().unwrap()),
        json!({"password": ""}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn expiry_defaults_and_limits_are_announced_and_applied() {
    let srv = TestServer::start_with(|c| {
        c.sharing = SharingPolicy {
            link_expiry_days: Some(7),
            link_expiry_enforced: true,
            share_expiry_days: Some(3),
            share_expiry_enforced: false,
            ..Default::default()
        }
    })
    .await;
    let bob = srv.add_user("bob", "bob-pw").await;
    let caps = sharing_caps(&srv).await;
    assert_eq!(
        caps["public"]["expire_date"],
        json!({"enabled": true, "days": 7, "enforced": true})
    );
    assert_eq!(
        caps["user"]["expire_date"],
        json!({"enabled": true, "days": 3, "enforced": false})
    );
    assert_eq!(caps["group"]["expire_date"], caps["user"]["expire_date"]);

    mkcol_admin(&srv, "/f").await;
    // A link without a date gets the default; one beyond the limit is refused; within, kept.
    let (status, data) = ocs_share(&srv, ADMIN, &[("shareType", "3"), ("path", "/f")]).await;
    assert_eq!(status, StatusCode::OK);
    let default = data["expiration"].as_str().unwrap().to_string();
    assert_eq!(&default[..10], &days_ahead(7)[..10], "{data}");
    let far = days_ahead(30);
    let (status, body) = ocs_share(
        &srv,
        ADMIN,
        &[
            ("shareType", "3"),
            ("path", "/f"),
            ("expireDate", &far[..10]),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let near = days_ahead(6);
    let (status, _) = ocs_share(
        &srv,
        ADMIN,
        &[
            ("shareType", "3"),
            ("path", "/f"),
            ("expireDate", &near[..10]),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // An enforced expiry cannot be removed.
    let id = data["id"].as_str().unwrap();
    assert_eq!(
        ocs_update(&srv, id, &[("expireDate", "")]).await,
        StatusCode::BAD_REQUEST
    );
    let at = admin_item(&srv, "/f").await;
    let (status, _) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "view", "expirationDateTime": far}),
    )
    .await;
    assert_eq!(status, 400);
    let (_, l) = graph(
        &srv,
        Method::POST,
        &format!("{at}/createLink"),
        json!({"type": "view"}),
    )
    .await;
    assert!(l["expirationDateTime"].is_string(), "{l}");

    // Shares get their default, and (not enforced) may go further.
    let (status, share) = ocs_share(
        &srv,
        ADMIN,
        &[("shareType", "0"), ("path", "/f"), ("shareWith", "bob")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        &share["expiration"].as_str().unwrap()[..10],
        &days_ahead(3)[..10]
    );
    let (status, invited) = graph(
        &srv,
        Method::POST,
        &format!("{at}/invite"),
        json!({"recipients": [{"objectId": bob.id.to_string()}],
               "roles": ["b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5"],
               "expirationDateTime": far}),
    )
    .await;
    assert_eq!(status, 200, "{invited}");
    assert_eq!(
        invited["value"][0]["expirationDateTime"].as_str().unwrap()[..10],
        far[..10]
    );
}
