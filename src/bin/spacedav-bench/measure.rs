//! What every workload shares and reports: the sizes of a run, the context, and the figures
//! (a metric's name, value and which direction is better). A leaf: the workloads and the
//! upload drivers both build on it.

use std::time::Duration;

use crate::pattern::Pattern;

/// Sizes and counts; `full` is what issue 6 asks for, `smoke` runs in seconds.
pub struct Sizes {
    /// Bytes of one large tus upload and of the WebDAV PUT/GET file.
    pub large: u64,
    /// PATCH size (oCIS's default `max_chunk_size`).
    pub chunk: u64,
    /// Size of the final PATCH of a large upload and of the small finishing upload.
    pub finish: u64,
    /// Finishing uploads per round (their median is reported).
    pub finish_reps: usize,
    /// Concurrent large uploads.
    pub parallel: usize,
    /// Small uploads per round, their size and concurrency.
    pub small_count: u64,
    pub small_size: u64,
    pub small_workers: usize,
    /// Files in the PROPFIND folder and their size.
    pub listing_files: u64,
    pub listing_file_size: u64,
}

impl Sizes {
    /// The full benchmark.
    pub fn full() -> Self {
        Self {
            large: 1 << 30,
            chunk: 10_000_000,
            finish: 1 << 20,
            finish_reps: 5,
            parallel: 4,
            small_count: 2000,
            small_size: 16 << 10,
            small_workers: 16,
            listing_files: 10_000,
            listing_file_size: 1 << 10,
        }
    }

    /// Seconds-long sizes for CI.
    pub fn smoke() -> Self {
        Self {
            large: 16 << 20,
            chunk: 4 << 20,
            finish: 1 << 20,
            finish_reps: 2,
            parallel: 4,
            small_count: 64,
            small_size: 16 << 10,
            small_workers: 8,
            listing_files: 100,
            listing_file_size: 1 << 10,
        }
    }
}

/// One figure of a workload.
#[derive(Clone, Debug)]
pub struct Metric {
    /// What it is, e.g. `MiB/s`.
    pub name: &'static str,
    /// The value.
    pub value: f64,
    /// Which direction is better; decides how ratios are formed.
    pub better: Better,
}

/// Every metric name a workload reports, with its direction (to read JSON lines back).
pub const METRICS: [(&str, Better); 15] = [
    ("MiB/s", Better::Higher),
    ("files/s", Better::Higher),
    ("aggregate MiB/s", Better::Higher),
    ("uploads/s", Better::Higher),
    ("last PATCH ms", Better::Lower),
    ("PATCH ms", Better::Lower),
    ("p50 ms", Better::Lower),
    ("p99 ms", Better::Lower),
    ("server CPU ms/upload", Better::Lower),
    ("total ms", Better::Lower),
    ("first byte ms", Better::Lower),
    ("body MB", Better::Neither),
    ("delete ms", Better::Lower),
    ("restore ms", Better::Lower),
    ("search ms", Better::Lower),
];

/// Which direction of a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Throughput: more is better.
    Higher,
    /// Time: less is better.
    Lower,
    /// Informational (e.g. body size): no ratio.
    Neither,
}

pub fn rate(name: &'static str, value: f64) -> Metric {
    Metric {
        name,
        value,
        better: Better::Higher,
    }
}

pub fn time_ms(name: &'static str, d: Duration) -> Metric {
    Metric {
        name,
        value: d.as_secs_f64() * 1e3,
        better: Better::Lower,
    }
}

/// What every workload needs.
pub struct Ctx {
    pub pattern: Pattern,
    pub sizes: Sizes,
    pub verify: bool,
}
