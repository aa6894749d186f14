//! The capabilities document (`/ocs/v{1,2}.php/cloud/capabilities`, anonymous; SPEC §6,
//! research/ocis-spec.md §5.2), assembled from the configuration and from what the protocols
//! advertise: tus's `tus_support` and sharing's `files_sharing`. It sits above `ocs` (whose
//! envelope it answers in), `sharing` and `tus`, so that none of them imports another for it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::Uri;

use crate::config::Config;
use crate::ocs::value::{Value, map, s};
use crate::ocs::{EDITION, LEGACY_VERSION_STRING, PRODUCT, PRODUCT_VERSION, negotiate, ok, status};
use crate::state::AppState;
use crate::tus;

/// The capabilities route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/ocs/{api}/cloud/capabilities", get(get_capabilities))
}

async fn get_capabilities(
    State(state): State<AppState>,
    Path(api): Path<String>,
    uri: Uri,
) -> Response {
    let Some((version, format)) = negotiate(&api, &uri) else {
        return http::StatusCode::NOT_FOUND.into_response();
    };
    ok(version, format, capabilities(state.config()))
}

fn int(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// `data` of `/ocs/v{1,2}.php/cloud/capabilities`.
pub fn capabilities(config: &Config) -> Value {
    let tus = tus::support(config);
    let core = map([
        ("pollinterval", Value::Int(60)),
        ("webdav-root", s("remote.php/webdav")),
        ("status", status()),
        // Signed download URLs and server-sent events are not served: say so, so ownCloud Web
        // does not try them.
        ("support-url-signing", Value::Flag(false)),
        ("support-sse", Value::Flag(false)),
    ]);
    // The checksums recorded for every stored file (spaces::Hasher), spelled as reva does:
    // desktop client 2.x compares `preferredUploadType` case-sensitively with `SHA1` and
    // otherwise uploads without a transfer checksum (SPEC §6).
    let checksums = map([
        (
            "supportedTypes",
            Value::List(vec![s("SHA1"), s("MD5"), s("ADLER32")]),
        ),
        ("preferredUploadType", s("SHA1")),
    ]);
    let files = map([
        // `/f/{id}` and `PROPFIND /dav/meta/{id}` (dav::meta).
        ("privateLinks", Value::Flag(true)),
        ("bigfilechunking", Value::Flag(false)),
        // The trash bin of each space (dav::trash); Web shows it for undelete and
        // dav.trashbin "1.0", and its purge actions for permanent_deletion.
        ("undelete", Value::Flag(true)),
        ("permanent_deletion", Value::Flag(true)),
        // `/dav/meta/{id}/v` (dav::meta).
        ("versioning", Value::Flag(true)),
        // `REPORT oc:filter-files` (dav::report).
        ("favorites", Value::Flag(true)),
        ("full_text_search", Value::Flag(false)),
        ("tags", Value::Flag(false)),
        ("blacklisted_files", Value::List(vec![])),
        // No previews: an object without `version` tells ownCloud Web not to ask for any.
        ("thumbnail", map([("enabled", Value::Flag(false))])),
        (
            "tus_support",
            map([
                ("version", s(tus.version)),
                ("resumable", s(tus.resumable)),
                ("extension", s(tus.extensions.join(","))),
                ("max_chunk_size", int(tus.max_chunk_size)),
                ("http_method_override", s(tus.http_method_override)),
            ]),
        ),
    ]);
    let dav = map([
        // No `chunking`: there is no v1/ng chunking (uploads in pieces go through tus), and an
        // empty element breaks pyocclient, which parses it as a number.
        ("trashbin", s("1.0")),
        // `REPORT oc:search-files` (dav::report); Web needs an array here.
        ("reports", Value::List(vec![s("search-files")])),
        (
            "propfind",
            map([(
                "depth_infinity",
                Value::Flag(config.propfind_depth_infinity),
            )]),
        ),
    ]);
    // Sharing as it exists and as configured (crate::sharing::policy).
    let files_sharing = crate::sharing::policy::capabilities(&config.sharing);
    // The search properties Web may offer (oCIS shape): names and a folder scope only.
    let off = || map([("enabled", Value::Flag(false))]);
    let search = map([(
        "property",
        map([
            ("name", map([("enabled", Value::Flag(true))])),
            ("scope", map([("enabled", Value::Flag(true))])),
            ("content", off()),
            ("mtime", off()),
            ("size", off()),
            ("mediatype", off()),
            ("type", off()),
            ("tag", off()),
            ("tags", off()),
            ("favorite", off()),
        ]),
    )]);
    let spaces = map([
        ("version", s("1.0.0")),
        ("enabled", Value::Bool(true)),
        ("projects", Value::Bool(true)),
        ("share_jail", Value::Bool(true)),
        ("max_quota", Value::Int(0)),
    ]);
    map([
        (
            "capabilities",
            map([
                ("core", core),
                ("checksums", checksums),
                ("files", files),
                ("dav", dav),
                ("files_sharing", files_sharing),
                ("spaces", spaces),
                ("search", search),
            ]),
        ),
        (
            "version",
            map([
                ("major", Value::Int(10)),
                ("minor", Value::Int(11)),
                ("micro", Value::Int(0)),
                ("string", s(LEGACY_VERSION_STRING)),
                ("edition", s(EDITION)),
                ("product", s(PRODUCT)),
                ("productversion", s(PRODUCT_VERSION)),
            ]),
        ),
    ])
}
