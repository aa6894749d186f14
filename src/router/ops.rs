//! The operator's endpoints (README "Operations"): `/metrics` (Prometheus text), `/healthz`
//! (the process serves) and `/readyz` (the database and the blob store answer).
//!
//! All three are anonymous, like a load balancer or Prometheus expects, unless `metrics.token`
//! is set: then `/metrics` wants `Authorization: Bearer <token>`. The probes say nothing a
//! client could not learn by trying a request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::metrics::{CONTENT_TYPE, metrics};
use crate::spaces::StoreResult;
use crate::state::AppState;

/// Prometheus scrape endpoint.
pub const METRICS: &str = "/metrics";
/// Liveness probe.
pub const HEALTHZ: &str = "/healthz";
/// Readiness probe.
pub const READYZ: &str = "/readyz";

/// How long a readiness check may take before it counts as failed: probes (and load
/// balancers) give up after a few seconds, and a pool waiting for a dead database would
/// otherwise hold the probe for its whole acquire timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

const TEXT: &str = "text/plain; charset=utf-8";

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(METRICS, get(scrape))
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, TEXT)], body).into_response()
}

/// Whether `headers` carry `Bearer <token>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, given)| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config().metrics_token
        && !bearer_matches(&headers, token)
    {
        let mut res = StatusCode::UNAUTHORIZED.into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"spacedav metrics\""),
        );
        crate::http::note_cause(&mut res, "metrics.token is set and was not presented");
        return res;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    // A failed count leaves the gauge at its last value; the failure itself is counted.
    let open = state.store().open_uploads(now).await.ok();
    let body = metrics().render(open);
    (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

/// One readiness check: `Ok` or why it failed (for the log; the body only says "unavailable").
async fn check(run: impl Future<Output = StoreResult<()>>) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store();
    let (database, blobs) = tokio::join!(check(store.check_database()), check(store.check_blobs()));
    let mut body = String::new();
    let mut causes = Vec::new();
    for (name, result) in [("database", database), ("blobs", blobs)] {
        match result {
            Ok(()) => body.push_str(&format!("{name}: ok\n")),
            Err(why) => {
                body.push_str(&format!("{name}: unavailable\n"));
                causes.push(format!("{name}: {why}"));
            }
        }
    }
    if causes.is_empty() {
        return text(StatusCode::OK, body);
    }
    let mut res = text(StatusCode::SERVICE_UNAVAILABLE, body);
    crate::http::note_cause(&mut res, causes.join("; "));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_opens_metrics() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        let token = "0123456789abcdef";
        assert!(bearer_matches(&with("Bearer 0123456789abcdef"), token));
        assert!(bearer_matches(&with("bearer 0123456789abcdef"), token));
        assert!(!bearer_matches(&with("Bearer 0123456789abcde"), token));
        assert!(!bearer_matches(&with("Basic 0123456789abcdef"), token));
        assert!(!bearer_matches(&HeaderMap::new(), token));
    }
}
