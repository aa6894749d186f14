//! A write transaction that SQLite rolls back by itself (what it does on `SQLITE_FULL` or an
//! I/O error) must not leave its pooled connection unusable: before the fix every later write
//! on that connection failed with "attempted to call begin_with at non-zero transaction
//! depth" until the server was restarted.
//!
//! The failure is injected with a trigger that raises `ROLLBACK` on every new node, which is
//! exactly the automatic rollback of a full disk, deterministically and without root.

use reqwest::StatusCode;
use sqlx::{Connection, Executor};

use crate::common::TestServer;
use crate::common::dav::{admin_root, mkcol, req};
use crate::support::Env;

/// More writes than the pool has connections (8), so every pooled connection is used.
const ROUNDS: usize = 12;

/// Runs `sql` on the server's SQLite database from a connection of its own.
pub(crate) async fn sqlite(srv: &TestServer, sql: &str) {
    let url = &srv.state.config().metadata_url;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    conn.execute("PRAGMA busy_timeout = 30000").await.unwrap();
    conn.execute(sql).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_work_again_once_the_database_stops_rolling_back_failed_transactions() {
    let env = Env::start().await;
    if !env.srv.state.config().metadata_url.starts_with("sqlite:") {
        return; // The injected fault is an SQLite trigger.
    }
    let s = &env.srv;
    let root = admin_root(s).await;
    for i in 0..ROUNDS {
        let r = req(s, "PUT", &format!("{root}/keep{i}.txt"))
            .body("kept")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    sqlite(
        s,
        "CREATE TRIGGER simulated_full BEFORE INSERT ON nodes \
         BEGIN SELECT RAISE(ROLLBACK, 'database or disk is full'); END",
    )
    .await;
    for i in 0..ROUNDS {
        let put = req(s, "PUT", &format!("{root}/new{i}.txt"))
            .body("new")
            .send()
            .await
            .unwrap();
        assert!(put.status().is_server_error(), "PUT: {}", put.status());
        let made = mkcol(s, &format!("{root}/dir{i}")).await;
        assert!(made.status().is_server_error(), "MKCOL: {}", made.status());
        let tus = env.upload(&format!("tus{i}.bin"), b"bytes").await;
        assert!(tus.status().is_server_error(), "tus: {}", tus.status());
        // Removing needs no new row: it works while the fault lasts.
        let del = req(s, "DELETE", &format!("{root}/keep{i}.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT, "DELETE while failing");
    }
    let listing = crate::common::dav::propfind(s, &format!("{root}/"), "1", "").await;
    assert!(!listing.1.contains("new0.txt"), "nothing half-written");

    // The cause goes away: every write works again, on every pooled connection, at once.
    sqlite(s, "DROP TRIGGER simulated_full").await;
    for i in 0..ROUNDS {
        let put = req(s, "PUT", &format!("{root}/new{i}.txt"))
            .body("new")
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::CREATED, "PUT after recovery");
        let made = mkcol(s, &format!("{root}/dir{i}")).await;
        assert_eq!(made.status(), StatusCode::CREATED, "MKCOL after recovery");
        let tus = env.upload(&format!("tus{i}.bin"), b"bytes").await;
        assert_eq!(tus.status(), StatusCode::CREATED, "tus after recovery");
        let del = req(s, "DELETE", &format!("{root}/new{i}.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            del.status(),
            StatusCode::NO_CONTENT,
            "DELETE after recovery"
        );
    }
    assert_eq!(
        env.content("tus3.bin").await.as_deref(),
        Some(&b"bytes"[..])
    );
}
