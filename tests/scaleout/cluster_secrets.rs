//! Issue 14: nodes that configure no secret and no signing key still form one installation.
//! A token signed on one node (the built-in provider's access token, a `/data/<jwt>` upload
//! URL, a `spacedav token issue` Bearer token) is good on every node, because the first node
//! stores its secrets and keys in the metadata database and every later node takes them; an
//! existing single node keeps its sessions when it first stores its files there; a node
//! configured with another secret refuses to start.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::binary;
use crate::cluster::{Cluster, admin};
use crate::common::client::Client;

/// The one host name the nodes are reached by, as behind a load balancer that keeps `Host`.
const HOST_NAME: &str = "cloud.example.test";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hidden inputs of the sign-in form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |rest: &str, name: &str| {
        let value = rest.split(&format!("{name}=\"")).nth(1).unwrap();
        value.split('"').next().unwrap().replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| (attr(rest, "name"), attr(rest, "value")))
        .collect()
}

/// Signs `admin` in as ownCloud Web does (authorization code + PKCE), each step on another
/// node: the sign-in page from node `pages`, the form posted to node `form`, the code
/// exchanged at node `exchange`. The token response.
async fn web_sign_in(cluster: &Cluster, [pages, form, exchange]: [usize; 3]) -> Value {
    let http = browser();
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("http://{HOST_NAME}/oidc-callback.html");
    let page = http
        .get(format!("{}/oidc/authorize", cluster.base(pages)))
        .header(HOST, HOST_NAME)
        .query(&[
            ("client_id", "web"),
            ("redirect_uri", &redirect_uri),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "st-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("response_mode", "query"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the sign-in page of node {pages}");
    let cookies: Vec<String> = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let mut fields = hidden_fields(&page.text().await.unwrap());
    fields.push(("username".into(), "admin".into()));
    fields.push(("password".into(), binary::ADMIN_PASSWORD.into()));
    let signed_in = http
        .post(format!("{}/oidc/authorize", cluster.base(form)))
        .header(HOST, HOST_NAME)
        .header(COOKIE, cookies.join("; "))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "node {form} accepts the form");
    let location = signed_in.headers()[LOCATION].to_str().unwrap();
    let query: HashMap<String, String> = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let code = query.get("code").unwrap_or_else(|| panic!("{location}"));
    let tokens = http
        .post(format!("{}/oidc/token", cluster.base(exchange)))
        .header(HOST, HOST_NAME)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", "web"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), 200, "node {exchange} redeems the code");
    tokens.json().await.unwrap()
}

/// `GET path` on node `i` as reached through [`HOST_NAME`]: the status and body.
async fn document(cluster: &Cluster, i: usize, path: &str) -> (u16, String) {
    let res = browser()
        .get(format!("{}{path}", cluster.base(i)))
        .header(HOST, HOST_NAME)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The status of Graph `me` and of a PROPFIND of the admin's space with `bearer` on node `i`.
async fn bearer_works_on(cluster: &Cluster, i: usize, bearer: &str) -> (u16, u16) {
    let client = Client::bearer(bearer);
    let me = client
        .request("GET", &format!("{}/graph/v1.0/me", cluster.base(i)))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let (propfind, _) = client.propfind(&cluster.space(i), "0", "").await;
    (me, propfind)
}

/// `spacedav token issue` for `admin`, run as node `i` would (its data root, its config).
fn issued_token(cluster: &Cluster, i: usize) -> String {
    let out = cluster
        .command(i)
        .args(["token", "issue", "--user", "admin"])
        .output()
        .expect("token issue runs");
    assert!(out.status.success(), "{}", binary::stderr(&out));
    binary::stdout(&out).trim().to_string()
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_access_token_from_one_nodes_provider_is_good_on_every_node() {
    let cluster = Cluster::start_unconfigured(3).await;
    let (_, discovery) = document(&cluster, 0, "/.well-known/openid-configuration").await;
    let (_, jwks) = document(&cluster, 0, "/oidc/jwks").await;
    let jwks_doc: Value = serde_json::from_str(&jwks).unwrap_or_else(|_| panic!("{jwks}"));
    assert_eq!(jwks_doc["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
    for i in 1..3 {
        let (status, doc) = document(&cluster, i, "/.well-known/openid-configuration").await;
        assert_eq!(
            (status, doc),
            (200, discovery.clone()),
            "discovery on node {i}"
        );
        assert_eq!(
            document(&cluster, i, "/oidc/jwks").await,
            (200, jwks.clone()),
            "JWKS on node {i}"
        );
    }

    let tokens = web_sign_in(&cluster, [0, 0, 0]).await;
    let access = tokens["access_token"].as_str().unwrap();
    for i in 0..3 {
        assert_eq!(
            bearer_works_on(&cluster, i, access).await,
            (200, 207),
            "node 0's access token on node {i}"
        );
    }
    // Behind a load balancer every step of the sign-in may land on another node.
    let tokens = web_sign_in(&cluster, [1, 2, 0]).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(bearer_works_on(&cluster, 1, access).await, (200, 207));
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_upload_created_on_one_node_completes_on_another_through_its_data_url() {
    let cluster = Cluster::start_unconfigured(3).await;
    let data = b"bytes that cross the nodes".to_vec();
    let addr = cluster.base(0).trim_start_matches("http://").to_string();
    let path = binary::create_upload(
        &addr,
        &cluster.sid,
        ("admin", binary::ADMIN_PASSWORD),
        "crossed.txt",
        data.len() as u64,
    )
    .await;
    let patched = admin()
        .tus_patch(&cluster.on(1, &path), 0, data.clone())
        .await;
    assert_eq!(patched.status, 204, "node 1 accepts node 0's upload URL");
    assert_eq!(patched.offset, Some(data.len() as u64));
    let (status, body) = admin()
        .get(&format!("{}/crossed.txt", cluster.space(2)))
        .await;
    assert_eq!((status.as_u16(), body), (200, data));
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_token_issued_as_one_node_is_good_on_every_node() {
    let cluster = Cluster::start_unconfigured(3).await;
    for from in 0..3 {
        let token = issued_token(&cluster, from);
        for on in 0..3 {
            assert_eq!(
                bearer_works_on(&cluster, on, &token).await,
                (200, 207),
                "issued as node {from}, used on node {on}"
            );
        }
    }
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn a_node_configured_with_another_token_secret_refuses_to_start() {
    let cluster = Cluster::start_unconfigured(1).await;
    let configured = "another-token-secret-0123456789abcdef";
    let out = cluster
        .command(1)
        .env("SPACEDAV_AUTH_TOKEN_SECRET", configured)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("binary runs");
    assert!(!out.status.success(), "{}", binary::stdout(&out));
    let err = binary::stderr(&out);
    assert!(
        err.contains(
            "the token secret configured in auth.token_secret differs from the one \
             the metadata database records"
        ),
        "{err}"
    );
    assert!(
        !err.contains(configured),
        "the secret stays out of the log: {err}"
    );
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL"]
async fn an_installation_upgraded_from_key_files_keeps_its_sessions_and_rotates_keys() {
    let mut cluster = Cluster::start_unconfigured(1).await;
    let access = web_sign_in(&cluster, [0, 0, 0]).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let issued = issued_token(&cluster, 0);
    let (_, jwks) = document(&cluster, 0, "/oidc/jwks").await;
    // As before migration 0013: the secrets and the key live in the node's files alone.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.metadata_url)
        .await
        .unwrap();
    sqlx::query("DELETE FROM cluster_secrets")
        .execute(&mut db)
        .await
        .unwrap();
    cluster.restart(0);
    assert_eq!(
        document(&cluster, 0, "/oidc/jwks").await,
        (200, jwks.clone())
    );
    assert_eq!(bearer_works_on(&cluster, 0, &access).await, (200, 207));
    assert_eq!(bearer_works_on(&cluster, 0, &issued).await, (200, 207));

    // A second node joins with the upgraded node's secrets.
    cluster.add_node();
    assert_eq!(bearer_works_on(&cluster, 1, &access).await, (200, 207));
    assert_eq!(bearer_works_on(&cluster, 1, &issued).await, (200, 207));

    // Rotation: a key added as node 0 signs after the restarts; the old one still verifies.
    let out = cluster
        .command(0)
        .args(["token", "new-signing-key"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", binary::stderr(&out));
    cluster.restart(0);
    cluster.restart(1);
    let (_, rotated) = document(&cluster, 1, "/oidc/jwks").await;
    let rotated: Value = serde_json::from_str(&rotated).unwrap();
    assert_eq!(
        rotated["keys"].as_array().map(Vec::len),
        Some(2),
        "{rotated}"
    );
    assert_eq!(bearer_works_on(&cluster, 1, &access).await, (200, 207));
    let fresh = web_sign_in(&cluster, [0, 0, 0]).await;
    let fresh = fresh["access_token"].as_str().unwrap();
    let header = fresh.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(
        header["kid"], rotated["keys"][1]["kid"],
        "the new key signs"
    );
    assert_eq!(bearer_works_on(&cluster, 1, fresh).await, (200, 207));

    // Retiring the old key, as node 1, retires it on node 0 too (its file goes at restart).
    let out = cluster
        .command(1)
        .args(["token", "remove-signing-key", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", binary::stderr(&out));
    cluster.restart(0);
    cluster.restart(1);
    let (_, retired) = document(&cluster, 0, "/oidc/jwks").await;
    let retired: Value = serde_json::from_str(&retired).unwrap();
    assert_eq!(retired["keys"], serde_json::json!([rotated["keys"][1]]));
    assert_eq!(bearer_works_on(&cluster, 0, &access).await, (401, 401));
    assert_eq!(bearer_works_on(&cluster, 0, fresh).await, (200, 207));
    let key_file = cluster.node_dir(0).join("data/secrets/oidc-signing-1.key");
    assert!(!key_file.exists(), "node 0's mirror of the retired key");
    let out = cluster
        .command(0)
        .args(["token", "remove-signing-key", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the signing key stays");
    assert!(binary::stderr(&out).contains("key 2 signs"));
}
