//! tus-js-client (npm, the driver of tests/clients/tus_js.rs) behind a load balancer: an
//! upload started on one node resumes on another after the first node died.

use std::time::Duration;

use serde_json::json;
use tokio::process::Command;

use crate::balancer::Balancer;
use crate::binary::ADMIN_PASSWORD;
use crate::cluster::{Cluster, admin};
use crate::support::{
    bin, events, node_modules, node_workdir, noise, require, run, sha256, spawn_until,
};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1024 * 1024;

#[tokio::test]
#[ignore = "real client: needs PostgreSQL and tus-js-client (npm dir)"]
async fn tus_js_client_resumes_on_another_node_an_upload_started_on_a_node_that_died() {
    let node = require("node", bin("node")).expect("node");
    let modules = require("tus-js-client (npm)", node_modules()).expect("npm dir");
    let work = node_workdir(&modules, &["node/tus_js_client.mjs"]);
    let mut cluster = Cluster::start(3).await;
    let balancer = Balancer::start(&cluster.base(0)).await;
    let data = noise(5 * MIB + 333, 19);
    let file = work.path().join("moved.bin");
    std::fs::write(&file, &data).unwrap();
    let opts = json!({
        "endpoint": format!("{}/remote.php/dav/spaces/{}/", balancer.base, cluster.sid),
        "user": "admin", "password": ADMIN_PASSWORD,
        "file": file, "chunkSize": MIB, "store": work.path().join("urls.json"),
        "metadata": {"filename": "moved.bin"},
    });
    let client = |opts: &serde_json::Value| {
        let mut cmd = Command::new(&node);
        cmd.arg(work.path().join("tus_js_client.mjs"))
            .arg(opts.to_string())
            .current_dir(work.path());
        cmd
    };
    let mut first = opts.clone();
    first["pauseAfter"] = json!(2);
    let (mut paused, _) = spawn_until(&mut client(&first), "\"paused\"", LIMIT).await;
    paused.start_kill().expect("SIGKILL the client");
    paused.wait().await.expect("reap");
    let started_on = cluster.base(0);
    assert!(
        balancer.log().iter().all(|(_, up, _)| *up == started_on),
        "{:?}",
        balancer.log()
    );
    // Node 0 dies; the balancer sends everything to node 1 from now on.
    let resumed_on = cluster.base(1);
    balancer.point_at(&resumed_on);
    cluster.kill(0);
    balancer.clear();
    let out = run(&mut client(&opts), LIMIT).await;
    out.assert_success("tus-js-client resume on another node");
    assert_eq!(events(&out.stdout)[0]["previous"], 1, "{}", out.text());
    let log = balancer.log();
    let calls: Vec<_> = log.iter().map(|(m, _, s)| (m.as_str(), *s)).collect();
    assert_eq!(
        calls,
        [
            ("HEAD", 200),
            ("PATCH", 204),
            ("PATCH", 204),
            ("PATCH", 204),
            ("PATCH", 204)
        ],
        "resume is a HEAD, then the remaining chunks: {log:?}"
    );
    assert!(log.iter().all(|(_, up, _)| *up == resumed_on), "{log:?}");
    let (status, body) = admin()
        .get(&format!("{}/moved.bin", cluster.space(2)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(sha256(&body), sha256(&data));
}
