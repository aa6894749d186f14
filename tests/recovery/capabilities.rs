//! Every recovery capability flag is on exactly when the endpoint behind it answers.

use serde_json::Value;

use crate::common::TestServer;
use crate::common::dav::*;
use crate::*;

#[tokio::test]
async fn each_recovery_capability_is_backed_by_a_working_endpoint() {
    let s = TestServer::start().await;
    let c = &s.capabilities().await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"1").await;
    put(&s, &format!("{root}/f.txt"), b"2").await;
    let id = file_id(&s, &format!("{root}/f.txt")).await;

    let trash = trash_list(&s, &sid).await.0 == 207;
    assert_eq!(c["files"]["undelete"] == true, trash);
    assert_eq!(c["dav"]["trashbin"] == "1.0", trash);
    let purge = req(&s, "DELETE", &trash_url(&s, &sid))
        .send()
        .await
        .unwrap()
        .status()
        == 204;
    assert_eq!(c["files"]["permanent_deletion"] == true, purge);

    let (st, xml) = propfind(&s, &s.url(&format!("/dav/meta/{id}/v")), "1", "").await;
    assert_eq!(
        c["files"]["versioning"] == true,
        st == 207 && responses(&xml).len() == 2
    );

    let (st, _) = propfind(
        &s,
        &s.url(&format!("/dav/meta/{id}")),
        "0",
        "<oc:meta-path-for-user/>",
    )
    .await;
    let link = req(&s, "GET", &s.url(&format!("/f/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c["files"]["privateLinks"] == true,
        st == 207 && link.status() == 200
    );

    let fav = req(&s, "REPORT", &s.url("/dav/files/admin"))
        .body(
            "<oc:filter-files xmlns:oc=\"http://owncloud.org/ns\"><oc:filter-rules>\
             <oc:favorite>1</oc:favorite></oc:filter-rules></oc:filter-files>",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(c["files"]["favorites"] == true, fav.status() == 207);

    let reports = c["dav"]["reports"]
        .as_array()
        .expect("dav.reports is an array");
    let found = req(&s, "REPORT", &s.url("/dav/spaces/"))
        .body(
            "<oc:search-files xmlns:oc=\"http://owncloud.org/ns\"><oc:search><oc:pattern>f.t\
             </oc:pattern><oc:limit>5</oc:limit></oc:search></oc:search-files>",
        )
        .send()
        .await
        .unwrap();
    let searched = found.status() == 207 && found.text().await.unwrap().contains("f.txt");
    assert_eq!(reports.iter().any(|r| r == "search-files"), searched);
    assert_eq!(c["search"]["property"]["name"]["enabled"] == true, searched);
    assert_eq!(c["search"]["property"]["content"]["enabled"], false);
}

/// What Web needs beyond the capabilities to show its search box and its favorites: the
/// `search` app in `config.json`, and the favorites permissions for every user (without them
/// Web hides the favorites list and the favorite action).
#[tokio::test]
async fn web_is_given_its_search_app_and_every_user_the_favorites_permissions() {
    let assets = tempfile::tempdir().unwrap();
    std::fs::write(assets.path().join("index.html"), "<html></html>").unwrap();
    let path = assets.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.web_assets_path = Some(path)).await;
    let config: Value = s
        .client()
        .get(s.url("/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let apps = config["apps"].as_array().expect("apps");
    assert!(apps.iter().any(|a| a == "search"), "{config}");

    let vera = s.add_user("vera", PW).await;
    let perms: Value = as_user(
        &s,
        "vera",
        "POST",
        &s.url("/api/v0/settings/permissions-list"),
    )
    .json(&serde_json::json!({"account_uuid": vera.id.to_string()}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let perms = perms["permissions"].as_array().expect("permissions");
    for p in ["Favorites.List.own", "Favorites.Write.own"] {
        assert!(perms.iter().any(|x| x == p), "{p} in {perms:?}");
    }
}
