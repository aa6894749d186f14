//! The tree: accounts and spaces, resolve, commit with propagation, move and copy, the
//! compare-and-set on concurrent commits, and the refusals.

use spacedav::spaces::{NewSpace, NewUser, Precondition, Role, SpacePath, StoreError};

use crate::{blob_with, content, fixture, p, whole_copy};

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
        .copy(space, &p("dst"), &p("src/dst2"), &whole_copy())
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
