//! What one node writes, every node sees at once: WebDAV locks, file ids and etags, upload
//! sessions (terminated, or surviving a restart of every node).

use crate::cluster::{Cluster, admin};
use crate::support::{noise, sha256};

const MIB: usize = 1024 * 1024;

/// The text between `open` and `close` in `s`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let start = s.find(open).unwrap_or_else(|| panic!("no {open} in {s}")) + open.len();
    let end = s[start..].find(close).expect("closed") + start;
    &s[start..end]
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_lock_taken_on_one_node_refuses_a_put_without_its_token_on_another() {
    let cluster = Cluster::start(3).await;
    let file = |i: usize| format!("{}/locked.txt", cluster.space(i));
    let put = admin().put(&file(0), b"v1".to_vec(), None).await;
    assert_eq!(put.status(), 201);
    let token = admin().lock(&file(0)).await;
    let refused = admin().put(&file(1), b"v2".to_vec(), None).await;
    assert_eq!(refused.status(), 423);
    let with_token = admin()
        .request("PUT", &file(2))
        .header("If", format!("({token})"))
        .body(b"v3".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 204);
    assert_eq!(admin().get(&file(1)).await.1, b"v3");
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn right_after_a_put_on_one_node_every_node_shows_the_same_file_id_and_etag() {
    let cluster = Cluster::start(3).await;
    for (round, writer) in [0, 1, 2].into_iter().enumerate() {
        let body = format!("round {round}").into_bytes();
        let put = admin()
            .put(&format!("{}/shared.txt", cluster.space(writer)), body, None)
            .await;
        assert!(put.status().is_success(), "PUT on node {writer}");
        let mut seen = Vec::new();
        for i in 0..3 {
            let (status, xml) = admin()
                .propfind(
                    &format!("{}/shared.txt", cluster.space(i)),
                    "0",
                    "<oc:fileid/><d:getetag/>",
                )
                .await;
            assert_eq!(status, 207);
            let id = between(&xml, "<oc:fileid>", "</oc:fileid>").to_string();
            let etag = between(&xml, "<d:getetag>", "</d:getetag>").to_string();
            seen.push((id, etag));
        }
        assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "round {round}: {seen:?}"
        );
    }
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_upload_terminated_on_one_node_is_gone_on_every_other_and_from_the_bucket() {
    let cluster = Cluster::start(3).await;
    let data = noise(6 * MIB + 5, 19);
    let created = admin()
        .tus_create(
            &format!("{}/", cluster.space(0)),
            8 * MIB as u64,
            &[("filename", "t.bin")],
        )
        .await;
    let url = created.location().to_string();
    let patched = admin().tus_patch(&cluster.on(2, &url), 0, data).await;
    assert_eq!(patched.status, 204);
    let (uploads, tails) = cluster.leftovers().await;
    assert_eq!(
        (uploads.len(), tails.len()),
        (1, 1),
        "a part and a tail staged"
    );
    let gone = admin()
        .tus_terminate_request(&cluster.on(1, &url))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    for i in [0, 2] {
        let patched = admin()
            .tus_patch(&cluster.on(i, &url), 0, b"0123456789".to_vec())
            .await;
        assert_eq!(patched.status, 404, "PATCH on node {i}");
    }
    assert_eq!(cluster.objects().await, Vec::<String>::new());
    assert_eq!(cluster.leftovers().await, (vec![], vec![]));
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_expired_upload_swept_by_any_node_leaves_nothing_in_the_bucket() {
    let cluster = Cluster::start(3).await;
    let data = noise(6 * MIB + 5, 20);
    let created = admin()
        .tus_create(
            &format!("{}/", cluster.space(0)),
            8 * MIB as u64,
            &[("filename", "old.bin")],
        )
        .await;
    let url = created.location().to_string();
    let patched = admin().tus_patch(&cluster.on(1, &url), 0, data).await;
    assert_eq!(patched.status, 204);
    assert_ne!(
        cluster.objects().await,
        Vec::<String>::new(),
        "a tail staged"
    );
    cluster.expire(&url).await;
    let out = cluster.run(2, &["uploads", "clean"]);
    assert!(out.status.success(), "{}", crate::binary::stderr(&out));
    assert_eq!(
        crate::binary::stdout(&out).trim(),
        "removed 1 expired uploads"
    );
    assert_eq!(cluster.objects().await, Vec::<String>::new());
    assert_eq!(cluster.leftovers().await, (vec![], vec![]));
    let head = admin().tus_head(&cluster.on(0, &url)).await;
    assert_eq!(head.status, 404);
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_upload_resumes_after_every_node_was_killed_and_started_again() {
    let mut cluster = Cluster::start(3).await;
    let data = noise(3 * MIB + 7, 18);
    let created = admin()
        .tus_create(
            &format!("{}/", cluster.space(0)),
            data.len() as u64,
            &[("filename", "restart.bin")],
        )
        .await;
    let url = created.location().to_string();
    let first = admin()
        .tus_patch(&cluster.on(1, &url), 0, data[..MIB].to_vec())
        .await;
    assert_eq!(first.status, 204);
    for i in 0..3 {
        cluster.kill(i);
    }
    for i in 0..3 {
        cluster.restart(i);
    }
    let head = admin().tus_head(&cluster.on(2, &url)).await;
    assert_eq!(head.offset, Some(MIB as u64));
    let rest = admin()
        .tus_patch(&cluster.on(0, &url), MIB as u64, data[MIB..].to_vec())
        .await;
    assert_eq!(rest.status, 204);
    let (status, body) = admin()
        .get(&format!("{}/restart.bin", cluster.space(1)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(sha256(&body), sha256(&data));
}

/// `(run, passed, failed)` summed over litmus's per-suite summaries (lines like
/// ``<- summary for `props': of 30 tests run: 30 passed, 0 failed. 100.0%``), and how many.
fn litmus_totals(out: &str) -> (usize, u32, u32, u32) {
    let mut totals = (0, 0, 0, 0);
    for line in out.lines().filter(|l| l.contains("<- summary for `")) {
        let num = |after: &str| -> u32 {
            let (before, _) = line.split_once(after).expect("summary field");
            before
                .split_whitespace()
                .last()
                .and_then(|n| n.parse().ok())
                .expect("a count")
        };
        totals.0 += 1;
        totals.1 += num(" tests run");
        totals.2 += num(" passed");
        totals.3 += num(" failed");
    }
    totals
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL and litmus"]
async fn litmus_passes_against_the_second_node() {
    let litmus = crate::support::require("litmus", crate::support::bin("litmus")).expect("litmus");
    let cluster = Cluster::start(3).await;
    let url = format!("{}/", cluster.space(1));
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = crate::support::run(
        tokio::process::Command::new(litmus)
            .arg("-k")
            .arg(&url)
            .arg("admin")
            .arg(crate::binary::ADMIN_PASSWORD)
            .env("TESTS", "basic copymove props locks http")
            .current_dir(cwd.path()),
        std::time::Duration::from_secs(300),
    )
    .await;
    assert_eq!(
        litmus_totals(&out.stdout),
        (5, 104, 104, 0),
        "(suites, run, passed, failed) on {url}\n{}",
        out.text()
    );
}
