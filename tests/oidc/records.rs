//! What the maintenance sweep removes from the sign-in records (migration 0004): expired codes,
//! sessions, refresh tokens and app tokens go; live ones stay.

use spacedav::spaces::{AppToken, CodeRecord, CodeRedemption, Rotation};

use crate::common::TestServer;

#[tokio::test]
async fn the_sweep_removes_expired_records_and_keeps_live_ones() {
    let srv = TestServer::start().await;
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    // Real time: the server's own sweep may run at start-up too, with the real clock.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let code = |hash: &str, expires_at| CodeRecord {
        code_hash: hash.into(),
        client_id: "web".into(),
        redirect_uri: "http://h/cb".into(),
        user: admin.id,
        scope: "openid".into(),
        nonce: None,
        code_challenge: None,
        auth_time: now,
        expires_at,
    };
    store.insert_code(&code("old-code", now - 1)).await.unwrap();
    store
        .insert_code(&code("live-code", now + 60))
        .await
        .unwrap();
    store
        .insert_oidc_session("old-sid", admin.id, now, now - 1)
        .await
        .unwrap();
    store
        .insert_oidc_session("live-sid", admin.id, now, now + 60)
        .await
        .unwrap();
    let CodeRedemption::Fresh(fresh) = store.redeem_code("live-code", now).await.unwrap() else {
        panic!("a fresh code redeems");
    };
    let grant = fresh.1.id;
    store
        .insert_refresh_token("old-rt", grant, now - 1)
        .await
        .unwrap();
    store
        .insert_refresh_token("live-rt", grant, now + 60)
        .await
        .unwrap();
    for (id, expires_at) in [("old-app", now - 1), ("live-app", now + 60)] {
        store
            .insert_app_token(&AppToken {
                id: uuid::Uuid::new_v4(),
                user: admin.id,
                token_hash: id.into(),
                label: id.into(),
                created_at: now - 10,
                expires_at,
            })
            .await
            .unwrap();
    }

    store.purge_oidc(now).await.unwrap();
    store.purge_app_tokens(now).await.unwrap();
    assert_eq!(store.oidc_session("old-sid", now - 10).await.unwrap(), None);
    assert!(store.oidc_session("live-sid", now).await.unwrap().is_some());
    assert_eq!(
        store.redeem_code("old-code", now - 10).await.unwrap(),
        CodeRedemption::Unknown
    );
    assert!(matches!(
        store
            .rotate_refresh_token("live-rt", "next-rt", now, now + 60)
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    assert!(
        store
            .app_token_valid(admin.id, "live-app", now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .app_token_valid(admin.id, "old-app", now - 10)
            .await
            .unwrap()
    );
}
