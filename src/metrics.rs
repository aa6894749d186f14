//! The process's Prometheus metrics (README "Operations"): what is counted, under which names
//! and labels, and their rendering in the Prometheus text format (0.0.4) for `GET /metrics`.
//!
//! One registry per process, reached through [`metrics`]: the storage core counts its failures
//! where a `StoreError` is created (a `From` impl, which has no state to reach), so the
//! registry cannot live in `AppState`. A process serves one server; in-process test servers
//! share the counters.
//!
//! Every label takes values from a small fixed set (routes, methods, statuses, events), never
//! from the request path, so no client can grow the number of series.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `Content-Type` of the rendering (Prometheus text exposition format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Which part of the URL space a request addressed: the `route` label (README URL map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// WebDAV (`/remote.php/dav/…`, `/dav/…`, `/remote.php/webdav/…`, `/webdav/…`).
    Dav,
    /// A tus creation: `POST` with `Tus-Resumable` on a WebDAV folder.
    TusCreate,
    /// The tus upload resource `/data/{token}`.
    TusData,
    /// OCS (`/ocs/…`).
    Ocs,
    /// Graph (`/graph/…`).
    Graph,
    /// `/status.php`, `/status`.
    Status,
    /// `/metrics`.
    Metrics,
    /// `/healthz`, `/readyz`.
    Health,
    /// Anything else (unknown URLs included).
    Other,
}

impl Route {
    /// The route of a request for `path` with `method`; `tus` says whether it carries
    /// `Tus-Resumable`.
    pub fn of(method: &http::Method, path: &str, tus: bool) -> Route {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if ["/remote.php/dav", "/dav", "/remote.php/webdav", "/webdav"]
            .iter()
            .any(|p| under(p))
        {
            if method == http::Method::POST && tus {
                Route::TusCreate
            } else {
                Route::Dav
            }
        } else if under("/data") {
            Route::TusData
        } else if under("/ocs") {
            Route::Ocs
        } else if under("/graph") {
            Route::Graph
        } else if path == "/status.php" || path == "/status" {
            Route::Status
        } else if path == "/metrics" {
            Route::Metrics
        } else if path == "/healthz" || path == "/readyz" {
            Route::Health
        } else {
            Route::Other
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Dav => "dav",
            Route::TusCreate => "tus_create",
            Route::TusData => "tus_data",
            Route::Ocs => "ocs",
            Route::Graph => "graph",
            Route::Status => "status",
            Route::Metrics => "metrics",
            Route::Health => "health",
            Route::Other => "other",
        }
    }
}

/// The `method` label: the methods this server serves, anything else is `other`.
pub fn method_label(method: &http::Method) -> &'static str {
    const KNOWN: &[&str] = &[
        "GET",
        "HEAD",
        "PUT",
        "POST",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "REPORT",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("other")
}

/// A storage-core component whose failures are counted.
#[derive(Debug, Clone, Copy)]
pub enum StoreComponent {
    /// The metadata database.
    Database,
    /// The blob store.
    Blobs,
}

/// A step in the life of a tus upload session.
#[derive(Debug, Clone, Copy)]
pub enum UploadEvent {
    /// Created (`POST`).
    Created,
    /// Reached its length and became a file.
    Completed,
    /// Removed by the expiry sweep before it completed.
    Expired,
    /// Removed by the client (`DELETE`, tus termination).
    Terminated,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<LatencyLabels>,
    received: Family<RouteLabels, Counter>,
    sent: Family<RouteLabels, Counter>,
    uploads: Family<EventLabels, Counter>,
    uploads_in_progress: Gauge,
    store_errors: Family<ComponentLabels, Counter>,
    commit_batch: Histogram,
    sweeps: Family<EventLabels, Counter>,
    password_checks: Counter,
    wal_checkpoints: Counter,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~24 s: from a cached PROPFIND to a large PATCH.
    Histogram::new(exponential_buckets(0.001, 2.5, 12))
}

impl Metrics {
    fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("spacedav"),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            received: Family::default(),
            sent: Family::default(),
            uploads: Family::default(),
            uploads_in_progress: Gauge::default(),
            store_errors: Family::default(),
            // Powers of two up to 256 concurrent committers.
            commit_batch: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            sweeps: Family::default(),
            password_checks: Counter::default(),
            wal_checkpoints: Counter::default(),
        };
        m.registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            m.requests.clone(),
        );
        m.registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response",
            m.latency.clone(),
        );
        m.registry.register(
            "http_received_bytes",
            "Request body bytes received, by route",
            m.received.clone(),
        );
        m.registry.register(
            "http_sent_bytes",
            "Response body bytes sent, by route",
            m.sent.clone(),
        );
        m.registry.register(
            "tus_uploads",
            "tus upload sessions created, completed, expired and terminated",
            m.uploads.clone(),
        );
        m.registry.register(
            "tus_uploads_in_progress",
            "tus upload sessions neither complete nor expired (read at scrape time)",
            m.uploads_in_progress.clone(),
        );
        m.registry.register(
            "store_errors",
            "Storage failures by component (database, blobs)",
            m.store_errors.clone(),
        );
        m.registry.register(
            "db_group_commit_batch_size",
            "Commits made durable by one WAL fsync (SQLite group commit)",
            m.commit_batch.clone(),
        );
        m.registry.register(
            "sweeps",
            "Housekeeping rounds: run (this node holds the sweeper lease) or skipped (another \
             node does)",
            m.sweeps.clone(),
        );
        m.registry.register(
            "auth_password_checks",
            "Password hashes computed (argon2) for Basic credentials and sign-ins the cache did \
             not know",
            m.password_checks.clone(),
        );
        m.registry.register(
            "db_wal_checkpoints",
            "Passive WAL checkpoints run beside the writers (SQLite)",
            m.wal_checkpoints.clone(),
        );
        // Series with known label values start at 0, so alerts on them see a value from the
        // first scrape on.
        for event in ["created", "completed", "expired", "terminated"] {
            m.uploads.get_or_create_owned(&EventLabels { event });
        }
        for event in ["run", "skipped"] {
            m.sweeps.get_or_create_owned(&EventLabels { event });
        }
        for component in ["database", "blobs"] {
            m.store_errors
                .get_or_create_owned(&ComponentLabels { component });
        }
        m
    }

    /// Counts one answered request (called when its response body is done).
    pub fn request(
        &self,
        method: &'static str,
        route: Route,
        status: u16,
        seconds: f64,
        sent: u64,
    ) {
        let route = route.as_str();
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels { method, route })
            .observe(seconds);
        self.sent.get_or_create(&RouteLabels { route }).inc_by(sent);
    }

    /// Counts request body bytes received on `route`.
    pub fn received(&self, route: Route, bytes: u64) {
        let route = route.as_str();
        self.received
            .get_or_create(&RouteLabels { route })
            .inc_by(bytes);
    }

    /// Counts one upload event.
    pub fn upload(&self, event: UploadEvent) {
        let event = match event {
            UploadEvent::Created => "created",
            UploadEvent::Completed => "completed",
            UploadEvent::Expired => "expired",
            UploadEvent::Terminated => "terminated",
        };
        self.uploads.get_or_create(&EventLabels { event }).inc();
    }

    /// Counts one storage failure.
    pub fn store_error(&self, component: StoreComponent) {
        let component = match component {
            StoreComponent::Database => "database",
            StoreComponent::Blobs => "blobs",
        };
        self.store_errors
            .get_or_create(&ComponentLabels { component })
            .inc();
    }

    /// Counts one housekeeping round: `run` by this node, or skipped for another's lease.
    pub fn sweep(&self, run: bool) {
        let event = if run { "run" } else { "skipped" };
        self.sweeps.get_or_create(&EventLabels { event }).inc();
    }

    /// Counts one argon2 password verification.
    pub fn password_check(&self) {
        self.password_checks.inc();
    }

    /// Counts one WAL checkpoint.
    pub fn wal_checkpoint(&self) {
        self.wal_checkpoints.inc();
    }

    /// Records how many commits one WAL fsync made durable.
    pub fn group_commit(&self, batch: u64) {
        self.commit_batch.observe(batch as f64);
    }

    /// The Prometheus text rendering; `uploads_in_progress` is the count the caller just read
    /// from the store (`None` when it could not, which leaves the last value).
    pub fn render(&self, uploads_in_progress: Option<u64>) -> String {
        if let Some(n) = uploads_in_progress {
            self.uploads_in_progress
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    #[test]
    fn routes_come_from_a_fixed_set() {
        let rows = [
            ("GET", "/remote.php/dav/spaces/x/a.txt", false, "dav"),
            ("POST", "/remote.php/dav/spaces/x/", true, "tus_create"),
            ("POST", "/remote.php/dav/spaces/x/", false, "dav"),
            ("PROPFIND", "/webdav", false, "dav"),
            ("GET", "/webdavx", false, "other"),
            ("PATCH", "/data/abc", true, "tus_data"),
            ("GET", "/ocs/v2.php/cloud/user", false, "ocs"),
            ("GET", "/graph/v1.0/me/drives", false, "graph"),
            ("GET", "/status.php", false, "status"),
            ("GET", "/metrics", false, "metrics"),
            ("GET", "/readyz", false, "health"),
            ("GET", "/../etc/passwd", false, "other"),
        ];
        for (method, path, tus, want) in rows {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(Route::of(&method, path, tus).as_str(), want, "{path}");
        }
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "PROPFIND"
        );
    }
}
