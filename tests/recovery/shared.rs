//! The trash and sharing together, as in oCIS: deleting a shared folder keeps its shares and
//! public links (oCIS removes neither; its `ocis shares cleanup` command exists for the
//! orphans), but while the folder lies in the trash they reach nothing and are not listed
//! (oCIS skips every share whose resource it cannot stat, and a trashed node cannot be
//! stat'ed by id); restored, the folder keeps its id (decomposedfs restores the node under
//! its id, with its grants), so the same shares and links reach it again.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestServer;
use crate::common::dav::*;
use crate::*;

/// The share jail's space id (oCIS's fixed one).
const JAIL: &str = "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";

/// An OCS share of admin's `form`; returns `ocs.data`.
async fn ocs_share(s: &TestServer, form: &[(&str, &str)]) -> Value {
    let res = req(
        s,
        "POST",
        &s.url("/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json"),
    )
    .form(form)
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["ocs"]["data"].clone()
}

/// Status and body of `GET url` as bob (`Some`) or anonymously.
async fn get(s: &TestServer, user: Option<&str>, url: &str) -> (u16, String) {
    let r = match user {
        Some(u) => as_user(s, u, "GET", url),
        None => s.client().get(url),
    };
    let res = r.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The ids of the shares admin has made.
async fn share_ids(s: &TestServer) -> Vec<String> {
    let url = s.url("/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json");
    let v: Value = req(s, "GET", &url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = v["ocs"]["data"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// How many items bob's Graph `sharedWithMe` and admin's `sharedByMe` list.
async fn graph_counts(s: &TestServer) -> (usize, usize) {
    let with_me = as_user(
        s,
        "bob",
        "GET",
        &s.url("/graph/v1beta1/me/drive/sharedWithMe"),
    );
    let by_me = req(s, "GET", &s.url("/graph/v1beta1/me/drive/sharedByMe"));
    let mut counts = Vec::new();
    for r in [with_me, by_me] {
        let res = r.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        counts.push(v["value"].as_array().expect("value").len());
    }
    (counts[0], counts[1])
}

#[tokio::test]
async fn a_trashed_shared_folder_is_out_of_reach_until_restored_with_its_shares_and_links() {
    let s = TestServer::start().await;
    s.add_user("bob", PW).await;
    let sid = s.admin_space().await;
    let root = admin_root(&s).await;
    assert_eq!(mkcol(&s, &format!("{root}/team")).await.status(), 201);
    put(&s, &format!("{root}/team/t.txt"), b"team notes").await;
    let user_share = [
        ("shareType", "0"),
        ("path", "/team"),
        ("shareWith", "bob"),
        ("permissions", "15"),
    ];
    ocs_share(&s, &user_share).await;
    let link = [("shareType", "3"), ("path", "/team"), ("permissions", "1")];
    let token = ocs_share(&s, &link).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    // A link on a file inside the folder: below a trashed folder it is out of reach too.
    let file_link = [
        ("shareType", "3"),
        ("path", "/team/t.txt"),
        ("permissions", "1"),
    ];
    let file_token = ocs_share(&s, &file_link).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let shares = share_ids(&s).await;
    assert_eq!(shares.len(), 3);

    let in_jail = s.url(&format!("/remote.php/dav/spaces/{JAIL}/team/t.txt"));
    let public = s.url(&format!("/remote.php/dav/public-files/{token}/t.txt"));
    let public_file = s.url(&format!("/remote.php/dav/public-files/{file_token}/t.txt"));
    let jail_root = s.url(&format!("/remote.php/dav/spaces/{JAIL}/"));
    let received = async || {
        let res = as_user(&s, "bob", "PROPFIND", &jail_root)
            .header("Depth", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 207);
        res.text().await.unwrap().contains("/team/")
    };
    assert_eq!(get(&s, Some("bob"), &in_jail).await.0, 200);
    assert_eq!(get(&s, None, &public).await.0, 200);
    assert_eq!(get(&s, None, &public_file).await.0, 200);
    assert!(received().await);
    let by_id = s.url(&format!(
        "/remote.php/dav/spaces/{}/",
        file_id(&s, &format!("{root}/team")).await
    ));
    assert_eq!(propfind(&s, &by_id, "1", "").await.0, 207);
    assert_eq!(graph_counts(&s).await, (1, 2));

    // In the trash: the shares and the link still exist, but reach nothing.
    let del = req(&s, "DELETE", &format!("{root}/team")).send().await;
    assert_eq!(del.unwrap().status(), 204);
    assert_eq!(get(&s, Some("bob"), &in_jail).await.0, 404);
    let put_by_bob = as_user(
        &s,
        "bob",
        "PUT",
        &s.url(&format!("/remote.php/dav/spaces/{JAIL}/team/new.txt")),
    )
    .body("x")
    .send()
    .await
    .unwrap();
    assert_eq!(put_by_bob.status(), 404);
    assert_eq!(get(&s, None, &public).await.0, 404);
    assert_eq!(get(&s, None, &public_file).await.0, 404);
    let listing = s
        .client()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            s.url(&format!("/remote.php/dav/public-files/{token}/")),
        )
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 404);
    assert!(!received().await, "the jail root lists no trashed folder");
    // Nor does its id lead anywhere (it used to address the space root).
    assert_eq!(propfind(&s, &by_id, "1", "").await.0, 404);
    // Like oCIS, which lists only shares whose resource it can stat.
    assert_eq!(share_ids(&s).await, Vec::<String>::new());
    assert_eq!(graph_counts(&s).await, (0, 0));

    // Restored: the same shares and link reach it again.
    let key = item_keys(&trash_list(&s, &sid).await.1).remove(0);
    let res = req(&s, "MOVE", &format!("{}/{key}", trash_url(&s, &sid)))
        .header("Destination", format!("{root}/team"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(share_ids(&s).await, shares);
    assert_eq!(graph_counts(&s).await, (1, 2));
    assert_eq!(
        get(&s, Some("bob"), &in_jail).await,
        (200, "team notes".into())
    );
    assert_eq!(get(&s, None, &public).await, (200, "team notes".into()));
    assert_eq!(
        get(&s, None, &public_file).await,
        (200, "team notes".into())
    );
    assert!(received().await);
}
