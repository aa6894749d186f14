//! OCS and server status (SPEC §6): `/status.php`, `/status` and the current user
//! (`/ocs/v{1,2}.php/cloud/user`), in the OCS envelope as JSON or one-line XML. The envelope
//! serves every OCS API (sharing's, and the capabilities assembled in [`crate::capabilities`]).

mod envelope;
mod request;
mod status;
pub mod value;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, Uri, header};
use serde::Serialize;

use crate::auth::Principal;
use crate::state::AppState;

pub use envelope::{Format, OcsError, OcsVersion, ok};
pub use request::OcsRequest;
pub use status::{
    EDITION, LEGACY_VERSION, LEGACY_VERSION_STRING, PRODUCT, PRODUCT_VERSION, status,
};
pub use value::Value;

/// The OCS and status routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status.php", get(get_status))
        .route("/status", get(get_status))
        .route("/ocs/{api}/cloud/user", get(user))
        .route("/ocs/{api}/{*rest}", get(not_found))
}

/// `/status.php`: the status object as 4-space indented JSON, like oCIS (the desktop client
/// requires 200 and a JSON body with `installed`).
async fn get_status() -> Response {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    status::status()
        .serialize(&mut ser)
        .expect("status serialises");
    let mut res = buf.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The version and format of an OCS request; `None` for an unknown version segment.
pub fn negotiate(api: &str, uri: &Uri) -> Option<(OcsVersion, Format)> {
    Some((OcsVersion::parse(api)?, Format::from_query(uri.query())))
}

async fn user(req: OcsRequest) -> Response {
    req.answer(Ok(user_data(&req.principal)))
}

fn user_data(p: &Principal) -> Value {
    value::map([
        ("id", value::s(&p.user.name)),
        ("display-name", value::s(&p.user.display_name)),
        ("email", value::s(p.user.email.clone().unwrap_or_default())),
        ("user-type", value::s("member")),
    ])
}

async fn not_found(Path((api, _rest)): Path<(String, String)>, uri: Uri) -> Response {
    match negotiate(&api, &uri) {
        Some((version, format)) => OcsError::NotFound.respond(version, format),
        None => http::StatusCode::NOT_FOUND.into_response(),
    }
}
