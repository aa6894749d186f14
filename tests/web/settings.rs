//! The settings calls ownCloud Web makes after sign-in (issue 10 item 5): role bundles, the
//! user's role assignment, permission names (Web's abilities), and the language value.

use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, TestServer};

async fn post(srv: &TestServer, path: &str, who: (&str, &str), body: Value) -> (u16, Value) {
    let res = srv
        .client()
        .post(srv.url(&format!("/api/v0/settings/{path}")))
        .basic_auth(who.0, Some(who.1))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn roles_assignments_and_permissions_tell_web_what_admins_and_users_may_do() {
    let srv = TestServer::start().await;
    let frank = srv.add_user("frank", "pw").await;
    let admin = ("admin", ADMIN_PASSWORD);
    let (s, roles) = post(&srv, "roles-list", admin, json!({})).await;
    assert_eq!(s, 200);
    let bundles = roles["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 2);
    let (s, a) = post(
        &srv,
        "assignments-list",
        ("frank", "pw"),
        json!({"account_uuid": frank.id.to_string()}),
    )
    .await;
    assert_eq!(s, 200);
    let role_id = a["assignments"][0]["roleId"].clone();
    let role = bundles
        .iter()
        .find(|b| b["id"] == role_id)
        .expect("the assigned role is listed");
    assert_eq!(role["name"], "user");
    let (_, p) = post(
        &srv,
        "permissions-list",
        ("frank", "pw"),
        json!({"account_uuid": frank.id.to_string()}),
    )
    .await;
    assert!(
        !p["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("Drives.Create.all"))
    );
    // Web shows its share panel and link actions only with these.
    for sharing in ["Shares.Write.all", "PublicLink.Write.all"] {
        assert!(
            p["permissions"]
                .as_array()
                .unwrap()
                .contains(&json!(sharing)),
            "{sharing} in {p}"
        );
    }
    let (_, p) = post(
        &srv,
        "permissions-list",
        admin,
        json!({"account_uuid": "me"}),
    )
    .await;
    assert!(
        p["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("Drives.Create.all"))
    );
    // Only admins look at other accounts.
    let admin_id = srv
        .state
        .store()
        .user_by_name("admin")
        .await
        .unwrap()
        .id
        .to_string();
    let (s, _) = post(
        &srv,
        "assignments-list",
        ("frank", "pw"),
        json!({"account_uuid": admin_id}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = post(
        &srv,
        "assignments-list",
        ("frank", "pw"),
        json!("not an object"),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_language_is_saved_as_a_settings_value_and_shown_in_me() {
    let srv = TestServer::start().await;
    srv.add_user("gina", "pw").await;
    let gina = ("gina", "pw");
    let (_, v) = post(&srv, "values-list", gina, json!({"account_uuid": "me"})).await;
    assert_eq!(v["values"], json!([]));
    let lang_setting = "aa8cfbe5-95d4-4f7e-a032-c3c01f5f062f";
    let save = json!({"value": {"settingId": lang_setting, "accountUuid": "me",
        "resource": {"type": "TYPE_USER"}, "listValue": {"values": [{"stringValue": "fr"}]}}});
    let (s, _) = post(&srv, "values-save", gina, save).await;
    assert_eq!(s, 200);
    let (_, v) = post(&srv, "values-list", gina, json!({"account_uuid": "me"})).await;
    assert_eq!(
        v["values"][0]["value"]["listValue"]["values"][0]["stringValue"],
        "fr"
    );
    let me: Value = srv
        .client()
        .get(srv.url("/graph/v1.0/me"))
        .basic_auth("gina", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["preferredLanguage"], "fr");
    let (s, b) = post(&srv, "bundles-list", gina, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(b["bundles"][0]["settings"][0]["id"], lang_setting);
    let bad = json!({"value": {"settingId": "unknown", "listValue": {"values": []}}});
    assert_eq!(post(&srv, "values-save", gina, bad).await.0, 400);
}
