//! Bytes: a commit that never happened leaves the old content and an orphan the sweep
//! collects, fsck, freeing blobs on delete, and versions.

use std::time::Duration;

use spacedav::spaces::{Precondition, SpacePath, StoreError};

use crate::{blob_with, content, fixture, p, read_blob, whole_copy};

#[tokio::test]
async fn failure_between_blob_write_and_commit_keeps_old_content_and_sweep_collects_orphan() {
    let f = fixture().await;
    let space = f.user.id.0;
    let old = blob_with(&f.store, b"old content").await;
    f.store
        .commit_file(space, &p("f.txt"), old, Precondition::None)
        .await
        .unwrap();

    // The new bytes are durable in a blob, but the commit fails (the precondition no longer
    // holds), as if the process had died between the two steps.
    let new = blob_with(&f.store, b"new content that never lands").await;
    let orphan = new.blob.clone();
    let err = f
        .store
        .commit_file(space, &p("f.txt"), new, Precondition::Etag("stale".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::PreconditionFailed), "{err:?}");

    let node = f.store.resolve(space, &p("f.txt")).await.unwrap();
    assert_eq!(content(&f.store, &node).await, b"old content");
    assert_eq!(node.size, 11);

    // A blob still being written (younger than the grace period) survives the sweep ...
    assert_eq!(
        f.store
            .sweep_blobs(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    // ... an old unreferenced one goes; the referenced one stays.
    assert_eq!(f.store.sweep_blobs(Duration::ZERO).await.unwrap(), 1);
    assert!(f.store.blobs().len(&orphan).await.is_err());
    assert_eq!(content(&f.store, &node).await, b"old content");
}

#[tokio::test]
async fn fsck_finds_a_blob_whose_bytes_changed_behind_the_database() {
    let f = fixture().await;
    let space = f.user.id.0;
    let c = blob_with(&f.store, b"original").await;
    f.store
        .commit_file(space, &p("good"), c, Precondition::None)
        .await
        .unwrap();
    let c = blob_with(&f.store, b"tampered").await;
    let bad = f
        .store
        .commit_file(space, &p("bad"), c, Precondition::None)
        .await
        .unwrap()
        .node;
    let report = f.store.fsck().await.unwrap();
    assert_eq!((report.checked, report.problems.len()), (2, 0));

    // Flip the stored bytes of one file (same length) without telling the database.
    let key = bad.blob.unwrap();
    let file = f
        ._dir
        .path()
        .join("blobs")
        .join(&key.as_str()[..2])
        .join(key.as_str());
    std::fs::write(&file, b"TAMPERED").unwrap();
    let report = f.store.fsck().await.unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].node.name, "bad");
    assert!(
        report.problems[0].reason.starts_with("SHA1"),
        "{}",
        report.problems[0].reason
    );
}

#[tokio::test]
async fn purging_frees_blobs_at_once_unless_a_copy_or_a_version_still_names_them() {
    let f = fixture().await;
    let space = f.user.id.0;
    let c = blob_with(&f.store, b"shared bytes").await;
    let key = c.blob.clone();
    f.store
        .commit_file(space, &p("a"), c, Precondition::None)
        .await
        .unwrap();
    f.store
        .copy(space, &p("a"), &p("b"), &whole_copy())
        .await
        .unwrap();
    let a = f.store.delete(space, &p("a")).await.unwrap();
    assert_eq!(f.store.blobs().len(&key).await.unwrap(), 12, "in the trash");
    f.store
        .purge(space, a.id, &SpacePath::root())
        .await
        .unwrap();
    assert_eq!(
        f.store.blobs().len(&key).await.unwrap(),
        12,
        "the copy still uses it"
    );
    let c = blob_with(&f.store, b"other").await;
    f.store
        .commit_file(space, &p("c"), c, Precondition::None)
        .await
        .unwrap();
    // Overwriting by MOVE keeps the replaced content as a version of the moved file; once
    // version retention drops it, nothing names the blob and it is freed.
    let (moved, _) = f.store.rename(space, &p("c"), &p("b"), true).await.unwrap();
    let versions = f.store.versions(moved.id).await.unwrap();
    assert_eq!(versions.iter().map(|v| &v.blob).collect::<Vec<_>>(), [&key]);
    assert_eq!(f.store.blobs().len(&key).await.unwrap(), 12, "a version");
    assert_eq!(f.store.expire_versions(0, i64::MAX).await.unwrap(), 1);
    assert!(f.store.blobs().len(&key).await.is_err(), "blob freed");
}

#[tokio::test]
async fn overwrites_keep_versions_newest_first_with_readable_content() {
    let f = fixture().await;
    let space = f.user.id.0;
    let mut states = Vec::new();
    for data in [&b"one"[..], b"two!", b"three"] {
        let c = blob_with(&f.store, data).await;
        let committed = f
            .store
            .commit_file(space, &p("v"), c, Precondition::None)
            .await;
        states.push(committed.unwrap().node);
    }
    let versions = f.store.versions(states[2].id).await.unwrap();
    assert_eq!(versions.len(), 2);
    for (v, (old, data)) in versions
        .iter()
        .zip([(&states[1], &b"two!"[..]), (&states[0], b"one")])
    {
        assert_eq!((&v.etag, v.size, v.mtime), (&old.etag, old.size, old.mtime));
        assert_eq!(v.checksums, old.checksums);
        assert_eq!(read_blob(&f.store, &v.blob).await, data);
    }
    let root = f.store.versions(states[2].parent.unwrap()).await.unwrap();
    assert!(root.is_empty(), "folders have no versions");
}
