//! Crash safety of restore and purge with the real binary: SIGKILL while a restore of a large
//! trashed folder and a purge of another are in flight, restart on the same data root. Each
//! is one transaction, so every kill point leaves each item wholly restored or wholly in the
//! trash (purged or not), and `spacedav fsck` finds nothing damaged.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::binary::{ADMIN_PASSWORD, Server, personal_space_id, run, stdout};
use crate::common::dav::responses;
use crate::key_of;

/// Files in each folder: the purge deletes this many rows (and frees as many blobs).
const FILES: usize = 640;

fn req(method: &str, url: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
}

async fn status(method: &str, url: &str) -> StatusCode {
    req(method, url).send().await.unwrap().status()
}

/// Depth 1 PROPFIND: (status, body).
async fn list(url: &str) -> (StatusCode, String) {
    let res = req("PROPFIND", url)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

/// `FILES` distinct small files in `root/{name}`: 10 PUTs, then COPYs of the folder's
/// contents doubling it (one transaction each).
async fn folder_of_files(root: &str, name: &str) {
    assert_eq!(
        status("MKCOL", &format!("{root}{name}")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        status("MKCOL", &format!("{root}{name}/g0")).await,
        StatusCode::CREATED
    );
    for i in 0..10 {
        let r = req("PUT", &format!("{root}{name}/g0/f{i}.txt")).body(format!("{name} {i}"));
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    let mut groups = 1;
    while groups * 10 < FILES {
        for g in 0..groups {
            let r = req("COPY", &format!("{root}{name}/g{g}"))
                .header("Destination", format!("{root}{name}/g{}", g + groups));
            assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
        }
        groups *= 2;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_restore_and_purge_leaves_old_or_new_state_and_fsck_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let sid = personal_space_id(dir.path(), "admin");
    // Kill points from "before the requests arrive" to "after they finished"; every round
    // must end in a consistent state whichever it hit.
    for (round, delay_ms) in [0u64, 2, 5, 10, 20, 40].into_iter().enumerate() {
        let base = format!("http://{}", server.addr);
        let root = format!("{base}/remote.php/dav/spaces/{sid}/");
        let bin = format!("{base}/remote.php/dav/spaces/trash-bin/{sid}/");
        let (restore_me, purge_me) = (format!("r{round}"), format!("p{round}"));
        folder_of_files(&root, &restore_me).await;
        folder_of_files(&root, &purge_me).await;
        for name in [&restore_me, &purge_me] {
            assert_eq!(
                status("DELETE", &format!("{root}{name}")).await,
                StatusCode::NO_CONTENT
            );
        }
        let trash = list(&bin).await.1;
        let restore_key = key_of(&trash, &restore_me).unwrap();
        let purge_key = key_of(&trash, &purge_me).unwrap();

        let restore = req("MOVE", &format!("{bin}{restore_key}"))
            .header("Destination", format!("{root}{restore_me}"))
            .send();
        let purge = req("DELETE", &format!("{bin}{purge_key}")).send();
        let inflight = tokio::spawn(async move { tokio::join!(restore, purge) });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let pid = server.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        assert!(!server.terminate_wait(), "killed, not exited");
        let _ = inflight.await;

        server = Server::start(dir.path());
        let base = format!("http://{}", server.addr);
        let root = format!("{base}/remote.php/dav/spaces/{sid}/");
        let bin = format!("{base}/remote.php/dav/spaces/trash-bin/{sid}/");
        let trash = list(&bin).await.1;

        // The restored folder: whole in the tree and out of the trash, or whole in the trash.
        let (st, listing) = list(&format!("{root}{restore_me}/")).await;
        match key_of(&trash, &restore_me) {
            None => {
                assert_eq!(st, StatusCode::MULTI_STATUS, "round {round}: restored");
                let groups = responses(&listing).len() - 1;
                assert_eq!(groups * 10, FILES, "round {round}: every group restored");
            }
            Some(key) => {
                assert_eq!(
                    st,
                    StatusCode::NOT_FOUND,
                    "round {round}: not half restored"
                );
                let (st, inner) = list(&format!("{bin}{key}/")).await;
                assert_eq!(st, StatusCode::MULTI_STATUS);
                assert_eq!((responses(&inner).len() - 1) * 10, FILES, "round {round}");
            }
        }
        // The purged folder: gone for good, or whole in the trash.
        if let Some(key) = key_of(&trash, &purge_me) {
            let (_, inner) = list(&format!("{bin}{key}/")).await;
            assert_eq!(
                (responses(&inner).len() - 1) * 10,
                FILES,
                "round {round}: not half purged"
            );
        }
        assert_eq!(
            list(&format!("{root}{purge_me}/")).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert!(server.terminate(), "graceful stop");
    let fsck = run(dir.path(), &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
    assert!(stdout(&fsck).contains(" 0 damaged"), "{}", stdout(&fsck));
}
