//! Every `files_sharing` flag (that is not a policy setting: those are in `policy.rs`) is on
//! exactly when the behaviour behind it is there.

use reqwest::StatusCode;

use crate::common::TestServer;
use crate::{ADMIN, mkcol_admin, ocs_list, ocs_share, put_admin, share_with};

#[tokio::test]
async fn each_sharing_capability_is_backed_by_what_the_server_does() {
    let srv = TestServer::start().await;
    let caps = srv.capabilities().await;
    let c = &caps["files_sharing"];
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    let store = srv.state.store();
    let team = store.create_group("team", "Team").await.unwrap();
    let carol = store.user_by_name("carol").await.unwrap();
    store
        .set_group_member(team.id, carol.id, true)
        .await
        .unwrap();
    mkcol_admin(&srv, "/s").await;
    put_admin(&srv, "/s/f.txt", b"f").await;
    let ok = |status: StatusCode| status == StatusCode::OK;

    let (status, _) = ocs_share(&srv, ADMIN, &[("shareType", "3"), ("path", "/s")]).await;
    assert_eq!(c["api_enabled"] == true, ok(status));
    assert_eq!(c["public"]["enabled"] == true, ok(status));
    let (status, _) = ocs_share(&srv, ADMIN, &[("shareType", "3"), ("path", "/s")]).await;
    assert_eq!(c["public"]["multiple"] == true, ok(status), "a second link");

    // Upload (read + create), edit (read, update, create, delete) and upload-only links, each
    // taking a PUT.
    let put_through = async |perms: &str, name: &str| {
        let form = [("shareType", "3"), ("path", "/s"), ("permissions", perms)];
        let (status, data) = ocs_share(&srv, ADMIN, &form).await;
        if !ok(status) {
            return false;
        }
        let token = data["token"].as_str().unwrap();
        let url = srv.url(&format!("/remote.php/dav/public-files/{token}/{name}"));
        srv.client()
            .put(url)
            .body("x")
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::CREATED
    };
    assert_eq!(
        c["public"]["upload"] == true,
        put_through("5", "u.txt").await
    );
    assert_eq!(
        c["public"]["can_edit"] == true,
        put_through("15", "e.txt").await
    );
    assert_eq!(
        c["public"]["supports_upload_only"] == true,
        put_through("4", "d.txt").await
    );

    // User and group shares, accepted without a step of the recipient's.
    let to_bob = share_with(&srv, "/s", "bob", "17").await;
    assert!(to_bob["id"].is_string());
    let received = ocs_list(&srv, ("bob", "bob-pw"), "shared_with_me=true").await;
    let listed = received["ocs"]["data"].as_array().unwrap().len() == 1;
    assert_eq!(c["auto_accept_share"] == true, listed);
    let group = [
        ("shareType", "1"),
        ("path", "/s/f.txt"),
        ("shareWith", "team"),
    ];
    let (status, _) = ocs_share(&srv, ADMIN, &group).await;
    assert_eq!(c["group_sharing"] == true, ok(status));

    // Re-sharing: bob (read + share) hands on read.
    let reshare = [
        ("shareType", "0"),
        ("path", "/Shares/s"),
        ("shareWith", "carol"),
        ("permissions", "1"),
    ];
    let (status, _) = ocs_share(&srv, ("bob", "bob-pw"), &reshare).await;
    assert_eq!(c["resharing"] == true, ok(status));

    // Nothing federated: no remote share type is taken.
    let remote = [
        ("shareType", "6"),
        ("path", "/s"),
        ("shareWith", "someone@elsewhere"),
    ];
    let (status, _) = ocs_share(&srv, ADMIN, &remote).await;
    assert_eq!(c["federation"]["outgoing"] == true, ok(status));
    assert_eq!(c["federation"]["incoming"], false);
    assert_eq!(c["user"]["send_mail"], false);
    assert_eq!(c["public"]["send_mail"], false);
}
