//! Tests of the metadata backends (`backend.rs`).

use super::*;

/// Group commit syncs the WAL file it opened at start; SQLite deletes that file when its
/// last connection closes, so the backend must keep one open whatever the pool does.
#[tokio::test]
async fn the_sqlite_wal_outlives_every_pooled_connection() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    let (pool, backend) = connect(&url).await.unwrap();
    let mut tx = backend.begin_write(&pool, WriteScope::All).await.unwrap();
    sqlx::query("DELETE FROM reservations")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    pool.close().await;
    // Without the backend's own connection, closing this one would delete the WAL.
    use sqlx::Connection;
    let last = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .connect()
        .await;
    last.unwrap().close().await.unwrap();
    // Pooled connections finish closing on their worker threads after `close` returns:
    // watch for a second.
    for _ in 0..20 {
        assert!(dir.path().join("meta.db-wal").exists());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    backend.durable().await.unwrap();
}

#[test]
fn space_locks_are_taken_once_each_in_ascending_order() {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let keys = ordered_keys(&[b, a, b]);
    let mut want = vec![space_lock_key(a), space_lock_key(b)];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(ordered_keys(&[a, b]), ordered_keys(&[b, a]));
}

/// Issue 14: on PostgreSQL a writer of one space (on any node) holds only that space's
/// lock, so a write into another space goes through while it is open, and a write into
/// the same space waits for it. (SQLite has one writer: nothing to show there.)
#[tokio::test]
async fn a_write_into_one_space_does_not_wait_for_a_writer_of_another() {
    if std::env::var("SPACEDAV_TEST_POSTGRES").is_err() {
        return;
    }
    let (store, alice, _dir) = crate::spaces::locks::tests::fixture().await;
    let bob = store
        .create_user(crate::spaces::NewUser {
            name: "bob".into(),
            display_name: String::new(),
            email: None,
            password_hash: "x".into(),
            is_admin: false,
        })
        .await
        .unwrap();
    let (mine, theirs) = (alice.id.0, bob.id.0);
    // A writer of alice's space, mid-transaction, as `begin_write_in` leaves it.
    let mut writer = store.begin_write_in(&[mine]).await.unwrap();
    sqlx::query("SELECT 1").execute(&mut *writer).await.unwrap();
    let path = |p: &str| crate::spaces::SpacePath::parse(p).unwrap();
    let other = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        store.create_folder(theirs, &path("beside")),
    )
    .await
    .expect("a write into another space must not wait for the open writer");
    other.unwrap();
    let same = tokio::spawn({
        let store = store.clone();
        async move { store.create_folder(mine, &path("after")).await }
    });
    // Barrier: the write into the same space is queued behind the open writer's lock.
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        )
        .fetch_one(&store.db)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(!same.is_finished());
    writer.commit().await.unwrap();
    same.await.unwrap().unwrap();
}
