//! Storage core: the guarantees every protocol layer builds on (issue 2).

mod common;

use std::time::Duration;

use spacedav::auth::hash_password;
use spacedav::spaces::{
    Hasher, NewContent, NewSpace, NewUser, Node, Precondition, Role, SpacePath, Store, StoreError,
    User,
};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

struct Fixture {
    store: Store,
    user: User,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = common::metadata_url(dir.path()).await;
    let store = Store::open_local(&url, dir.path().join("blobs"), Uuid::new_v4())
        .await
        .unwrap();
    let user = store
        .create_user(NewUser {
            name: "Alice".into(),
            display_name: String::new(),
            email: None,
            password_hash: hash_password("pw"),
            is_admin: false,
        })
        .await
        .unwrap();
    Fixture {
        store,
        user,
        _dir: dir,
    }
}

fn p(s: &str) -> SpacePath {
    SpacePath::parse(s).unwrap()
}

/// Write `data` into a fresh blob the way every write path does: stream, hash, finish.
async fn blob_with(store: &Store, data: &[u8]) -> NewContent {
    let mut sink = store.blobs().create().await.unwrap();
    sink.write(data).await.unwrap();
    let mut h = Hasher::new(false);
    h.update(data);
    NewContent {
        blob: sink.finish().await.unwrap(),
        size: data.len() as u64,
        checksums: h.finish().recorded,
        mtime: None,
        content_type: None,
        reservation: None,
    }
}

async fn content(store: &Store, node: &Node) -> Vec<u8> {
    read_blob(store, node.blob.as_deref().unwrap()).await
}

async fn read_blob(store: &Store, key: &str) -> Vec<u8> {
    let mut r = store.blobs().open(key, None).await.unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).await.unwrap();
    v
}

#[tokio::test]
async fn user_gets_personal_space_with_same_uuid_and_manager_role() {
    let f = fixture().await;
    let space = f.store.space(f.user.id.0).await.unwrap();
    assert_eq!(space.alias, "personal/alice");
    assert_eq!(
        f.store.role(space.id.space, f.user.id).await.unwrap(),
        Some(Role::Manager)
    );
    let root = f
        .store
        .resolve(space.id.space, &SpacePath::root())
        .await
        .unwrap();
    assert_eq!(root.id.0, space.id.space);
    assert_eq!(f.store.user_by_name("ALICE").await.unwrap().id, f.user.id);
    let again = f
        .store
        .create_user(NewUser {
            name: "alice".into(),
            display_name: String::new(),
            email: None,
            password_hash: String::new(),
            is_admin: false,
        })
        .await;
    assert!(matches!(again, Err(StoreError::NameTaken(_))));
}

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
async fn commit_deep_in_tree_changes_every_ancestor_etag_and_sizes_add_up() {
    let f = fixture().await;
    let space = f.user.id.0;
    for d in ["a", "a/b", "a/b/c", "x"] {
        f.store.create_folder(space, &p(d)).await.unwrap();
    }
    let c = blob_with(&f.store, b"12345").await;
    f.store
        .commit_file(space, &p("x/five"), c, Precondition::None)
        .await
        .unwrap();
    let chain = ["", "a", "a/b", "a/b/c"];
    let mut before = Vec::new();
    for d in chain {
        before.push(f.store.resolve(space, &p(d)).await.unwrap());
    }
    let sibling_before = f.store.resolve(space, &p("x")).await.unwrap();

    let c = blob_with(&f.store, &[7u8; 1000]).await;
    let committed = f
        .store
        .commit_file(space, &p("a/b/c/deep.bin"), c, Precondition::Absent)
        .await
        .unwrap();
    assert!(committed.created);
    for (d, old) in chain.iter().zip(&before) {
        let now = f.store.resolve(space, &p(d)).await.unwrap();
        assert_ne!(now.etag, old.etag, "etag of /{d} must change");
        assert_eq!(now.id, old.id);
    }
    let sibling = f.store.resolve(space, &p("x")).await.unwrap();
    assert_eq!(
        sibling.etag, sibling_before.etag,
        "unrelated folder keeps its etag"
    );
    let root = f.store.resolve(space, &SpacePath::root()).await.unwrap();
    assert_eq!(root.size, 1005);
    assert_eq!(f.store.resolve(space, &p("a")).await.unwrap().size, 1000);
    assert_eq!(f.store.quota(space).await.unwrap().used, 1005);

    // Overwrite shrinks the file: sizes follow, the id stays.
    let c = blob_with(&f.store, b"tiny").await;
    let again = f
        .store
        .commit_file(space, &p("a/b/c/deep.bin"), c, Precondition::None)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.node.id, committed.node.id);
    assert_eq!(
        f.store
            .resolve(space, &SpacePath::root())
            .await
            .unwrap()
            .size,
        9
    );

    f.store.delete(space, &p("a")).await.unwrap();
    assert_eq!(
        f.store
            .resolve(space, &SpacePath::root())
            .await
            .unwrap()
            .size,
        5
    );
    assert!(matches!(
        f.store.resolve(space, &p("a/b")).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn move_keeps_the_id_and_copy_makes_new_ids() {
    let f = fixture().await;
    let space = f.user.id.0;
    f.store.create_folder(space, &p("src")).await.unwrap();
    f.store.create_folder(space, &p("dst")).await.unwrap();
    let c = blob_with(&f.store, b"abc").await;
    let file = f
        .store
        .commit_file(space, &p("src/f"), c, Precondition::None)
        .await
        .unwrap()
        .node;

    let (moved, replaced) = f
        .store
        .rename(space, &p("src/f"), &p("dst/g"), false)
        .await
        .unwrap();
    assert!(!replaced);
    assert_eq!(moved.id, file.id);
    assert_eq!(f.store.resolve(space, &p("dst")).await.unwrap().size, 3);
    assert_eq!(f.store.resolve(space, &p("src")).await.unwrap().size, 0);

    let (copy, _) = f
        .store
        .copy(space, &p("dst"), &p("src/dst2"), false, true)
        .await
        .unwrap();
    assert_ne!(copy.id, moved.parent.unwrap());
    let copied = f.store.resolve(space, &p("src/dst2/g")).await.unwrap();
    assert_ne!(copied.id, file.id);
    assert_eq!(content(&f.store, &copied).await, b"abc");
    assert_eq!(
        f.store
            .resolve(space, &SpacePath::root())
            .await
            .unwrap()
            .size,
        6
    );

    assert!(matches!(
        f.store
            .rename(space, &p("dst"), &p("dst/inner"), false)
            .await,
        Err(StoreError::IntoItself)
    ));
    assert!(matches!(
        f.store
            .rename(space, &p("dst/g"), &p("src/dst2/g"), false)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    let (_, replaced) = f
        .store
        .rename(space, &p("dst/g"), &p("src/dst2/g"), true)
        .await
        .unwrap();
    assert!(replaced);
    assert_eq!(
        f.store
            .resolve(space, &SpacePath::root())
            .await
            .unwrap()
            .size,
        3
    );
}

#[tokio::test]
async fn concurrent_commits_on_one_node_one_wins_the_other_conflicts() {
    let f = fixture().await;
    let space = f.user.id.0;
    let c = blob_with(&f.store, b"v1").await;
    let v1 = f
        .store
        .commit_file(space, &p("doc"), c, Precondition::None)
        .await
        .unwrap()
        .node;
    let a = blob_with(&f.store, b"writer A").await;
    let b = blob_with(&f.store, b"writer B").await;
    // Both writers read version v1 before writing their bytes.
    let doc = p("doc");
    let (ra, rb) = tokio::join!(
        f.store
            .commit_file(space, &doc, a, Precondition::Version(v1.version)),
        f.store
            .commit_file(space, &doc, b, Precondition::Version(v1.version)),
    );
    let wins = [ra.is_ok(), rb.is_ok()];
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{ra:?} {rb:?}");
    let loser = if ra.is_ok() { rb } else { ra };
    assert!(matches!(loser, Err(StoreError::Conflict)));
    let node = f.store.resolve(space, &p("doc")).await.unwrap();
    let body = content(&f.store, &node).await;
    assert!(body == b"writer A" || body == b"writer B");
}

#[tokio::test]
async fn missing_parent_existing_folder_and_quota_are_refused() {
    let f = fixture().await;
    let space = f.user.id.0;
    let c = blob_with(&f.store, b"x").await;
    assert!(matches!(
        f.store
            .commit_file(space, &p("no/such/file"), c.clone(), Precondition::None)
            .await,
        Err(StoreError::ParentMissing)
    ));
    f.store.create_folder(space, &p("dir")).await.unwrap();
    assert!(matches!(
        f.store
            .commit_file(space, &p("dir"), c.clone(), Precondition::None)
            .await,
        Err(StoreError::IsFolder)
    ));
    assert!(matches!(
        f.store.create_folder(space, &p("dir")).await,
        Err(StoreError::AlreadyExists)
    ));

    let proj = f
        .store
        .create_project_space(NewSpace {
            name: "Team Docs".into(),
            alias: None,
            quota: Some(10),
            owner: f.user.id,
        })
        .await
        .unwrap();
    assert_eq!(proj.alias, "project/team-docs");
    let ps = proj.id.space;
    f.store.reserve(ps, "upload-1", 8, i64::MAX).await.unwrap();
    assert!(matches!(
        f.store.reserve(ps, "upload-2", 3, i64::MAX).await,
        Err(StoreError::QuotaExceeded)
    ));
    let big = blob_with(&f.store, b"0123").await;
    assert!(matches!(
        f.store
            .commit_file(ps, &p("f"), big.clone(), Precondition::None)
            .await,
        Err(StoreError::QuotaExceeded)
    ));
    // The upload's own reservation does not count against its commit.
    let mut with_res = big;
    with_res.reservation = Some("upload-1".into());
    f.store
        .commit_file(ps, &p("f"), with_res, Precondition::None)
        .await
        .unwrap();
    let q = f.store.quota(ps).await.unwrap();
    assert_eq!((q.used, q.reserved, q.available()), (4, 0, Some(6)));
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
    let file = f._dir.path().join("blobs").join(&key[..2]).join(&key);
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
async fn deleting_frees_blobs_at_once_unless_a_copy_still_shares_them() {
    let f = fixture().await;
    let space = f.user.id.0;
    let c = blob_with(&f.store, b"shared bytes").await;
    let key = c.blob.clone();
    f.store
        .commit_file(space, &p("a"), c, Precondition::None)
        .await
        .unwrap();
    f.store
        .copy(space, &p("a"), &p("b"), false, true)
        .await
        .unwrap();
    f.store.delete(space, &p("a")).await.unwrap();
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
    // Overwriting by MOVE frees the replaced file's blob once nothing else names it.
    f.store.rename(space, &p("c"), &p("b"), true).await.unwrap();
    assert!(f.store.blobs().len(&key).await.is_err(), "blob freed");
}

#[tokio::test]
async fn paths_deeper_than_one_join_resolve_and_files_do_not_act_as_folders() {
    let f = fixture().await;
    let space = f.user.id.0;
    let mut path = String::new();
    for i in 0..40 {
        path.push_str(&format!("/d{i}"));
        f.store.create_folder(space, &p(&path)).await.unwrap();
    }
    let c = blob_with(&f.store, b"deep").await;
    let file = format!("{path}/leaf");
    f.store
        .commit_file(space, &p(&file), c, Precondition::None)
        .await
        .unwrap();
    let node = f.store.resolve(space, &p(&file)).await.unwrap();
    assert_eq!(node.name, "leaf");
    assert_eq!(f.store.resolve(space, &p(&path)).await.unwrap().name, "d39");
    assert!(matches!(
        f.store.resolve(space, &p(&format!("{file}/below"))).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.resolve(space, &p("/d0/d2")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        f.store
            .resolve(space, &SpacePath::root())
            .await
            .unwrap()
            .size,
        4
    );
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
