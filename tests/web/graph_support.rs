//! Helpers shared by the Graph tests for Web.

use reqwest::Method;
use serde_json::Value;

use crate::common::{ADMIN_PASSWORD, TestServer};

pub const EDITOR_ROLE: &str = "58c63c02-1d89-4572-916a-870abc5a1b7d";
pub const VIEWER_ROLE: &str = "a8d5fe5e-96e3-418d-825b-534dbdf22b99";
pub const MANAGER_ROLE: &str = "312c0871-5ef7-4b3a-85b6-0e4074c64049";

pub async fn call(
    srv: &TestServer,
    method: Method,
    path: &str,
    who: (&str, &str),
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = srv
        .client()
        .request(method, srv.url(path))
        .basic_auth(who.0, Some(who.1));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);
