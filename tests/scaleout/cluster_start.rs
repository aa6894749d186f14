//! Starting nodes on one database: the storage id the first node stored is every node's, a
//! node that insists on another one refuses to start, and the sweeps run on one node.

use crate::binary;
use crate::cluster::{Cluster, admin, counter};

fn storage_id_file(cluster: &Cluster, i: usize) -> String {
    std::fs::read_to_string(cluster.node_dir(i).join("data/storage-id"))
        .expect("storage-id file")
        .trim()
        .to_string()
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn every_node_serves_the_storage_id_the_first_node_stored() {
    let cluster = Cluster::start(3).await;
    let first = storage_id_file(&cluster, 0);
    assert!(
        cluster.sid.starts_with(&first),
        "{} vs {first}",
        cluster.sid
    );
    for i in 0..3 {
        assert_eq!(
            storage_id_file(&cluster, i),
            first,
            "node {i} saved the database's id"
        );
        let (status, _) = admin().propfind(&cluster.space(i), "0", "").await;
        assert_eq!(status, 207, "node {i} serves the space id node 0 announced");
    }
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_node_configured_with_another_storage_id_refuses_to_start() {
    let cluster = Cluster::start(1).await;
    let stored = storage_id_file(&cluster, 0);
    let other = uuid::Uuid::new_v4().to_string();
    let out = cluster
        .command(1)
        .env("SPACEDAV_STORAGE_STORAGE_ID", &other)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("binary runs");
    assert!(!out.status.success(), "{}", binary::stdout(&out));
    let err = binary::stderr(&out);
    assert!(
        err.contains(&format!(
            "storage id {other} (storage.storage_id) differs from {stored}"
        )),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_node_whose_data_root_holds_another_storage_id_refuses_to_start() {
    let cluster = Cluster::start(1).await;
    let stored = storage_id_file(&cluster, 0);
    let other = uuid::Uuid::new_v4().to_string();
    let data = cluster.node_dir(1).join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("storage-id"), format!("{other}\n")).unwrap();
    let out = cluster
        .command(1)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("binary runs");
    assert!(!out.status.success(), "{}", binary::stdout(&out));
    let err = binary::stderr(&out);
    assert!(err.contains(&format!("storage id {other} (from ")), "{err}");
    assert!(err.contains(&format!("differs from {stored}")), "{err}");
    assert_eq!(
        std::fs::read_to_string(data.join("storage-id"))
            .unwrap()
            .trim(),
        other,
        "a refused start leaves the node's file alone"
    );
}

/// The count of `spacedav_sweeps_total{event="…"}` on node `i`.
async fn sweeps(cluster: &Cluster, i: usize, event: &str) -> u64 {
    counter(
        cluster,
        i,
        &format!("spacedav_sweeps_total{{event=\"{event}\"}}"),
    )
    .await
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn the_sweeps_run_on_one_node_while_the_others_skip_them() {
    let cluster = Cluster::start(3).await;
    let mut ran = Vec::new();
    for i in 0..3 {
        // Every node has had its first round (at start) once it counts one.
        while sweeps(&cluster, i, "run").await + sweeps(&cluster, i, "skipped").await == 0 {
            tokio::task::yield_now().await;
        }
        ran.push(sweeps(&cluster, i, "run").await);
    }
    assert_eq!(
        ran.iter().filter(|n| **n > 0).count(),
        1,
        "rounds run: {ran:?}"
    );
    assert_eq!(ran[0], 1, "the first node took the lease: {ran:?}");
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn nodes_started_at_once_on_an_empty_database_all_come_up_with_one_admin() {
    let mut cluster = Cluster::empty(crate::cluster::database().await).await;
    let servers: Vec<_> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..3)
            .map(|i| {
                let cmd = cluster.command(i);
                s.spawn(move || crate::binary::Server::spawn(cmd))
            })
            .collect();
        starts
            .into_iter()
            .map(|h| h.join().expect("every node starts"))
            .collect()
    });
    cluster.adopt(servers);
    for i in 0..3 {
        let (status, _) = admin().propfind(&cluster.space(i), "0", "").await;
        assert_eq!(status, 207, "node {i}");
    }
}
