//! pyocclient (PyPI `pyocclient` 0.6, ownCloud's Python client) against spacedav's sharing
//! (issue 12): it logs in by parsing the XML capabilities, creates, lists and deletes a public
//! link and a user share by the integer ids it expects, a second, anonymous client fetches the
//! linked file, and the recipient sees the share. The script is `python/pyocclient_client.py`.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, TestServer};
use crate::support::{events, python, run, script};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
#[ignore = "real client: needs pyocclient (venv); .ci/run runs it with --include-ignored"]
async fn pyocclient_creates_lists_and_deletes_a_link_and_a_user_share() {
    let py = require!("pyocclient (venv python)", python());
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-password").await;
    let out = run(
        Command::new(&py)
            .arg(script("python/pyocclient_client.py"))
            .args(["--url", &srv.base, "--user", ADMIN])
            .args(["--password", ADMIN_PASSWORD])
            .args(["--recipient", "bob", "--recipient-password", "bob-password"]),
        LIMIT,
    )
    .await;
    out.assert_success("pyocclient");
    let ev = events(&out.stdout);
    let find = |name: &str| {
        ev.iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no {name} event:\n{}", out.text()))
            .clone()
    };
    let link = find("link");
    let share = find("share");
    let (link_id, share_id) = (link["id"].as_i64().unwrap(), share["id"].as_i64().unwrap());
    assert_ne!(link_id, share_id);
    let token = link["token"].as_str().unwrap();
    assert!(token.len() >= 22, "{token}");
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/s/{token}"))
    );
    assert_eq!(
        find("listed")["shares"],
        serde_json::json!([[link_id, 3, "/linked.txt"], [share_id, 0, "/team"]])
    );
    assert_eq!(find("on_path")["ids"], serde_json::json!([share_id]));
    assert_eq!(find("anonymous")["content"], "through a public link");
    assert_eq!(
        find("received")["paths"],
        serde_json::json!(["/Shares/team"])
    );
    assert_eq!(find("deleted_link")["ok"], true);
    assert_eq!(find("deleted_share")["ok"], true);
    assert_eq!(find("after")["ids"], serde_json::json!([]));
    let anon = reqwest::get(format!(
        "{}/remote.php/dav/public-files/{token}/linked.txt",
        srv.base
    ))
    .await
    .unwrap();
    assert_eq!(
        anon.status(),
        reqwest::StatusCode::NOT_FOUND,
        "deleted link"
    );
}
