//! The measurements. Each workload runs against one server and returns its figures; the
//! runner wraps it with CPU and memory probes and interleaves servers. Setup (files to GET,
//! the folder to list) and clean-up happen outside the timed regions.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::dav::{self, DavTarget};
use crate::pattern::Pattern;
use crate::servers::Running;
use crate::tus;
use crate::uploads;

const MIB: f64 = (1 << 20) as f64;

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

/// One measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Workload {
    /// tus: one large upload, POST then PATCHes.
    TusSingle,
    /// tus: the same with creation-with-upload (first chunk in the POST).
    TusCwu,
    /// tus: a 1 MiB upload, time of its one PATCH (compare with the large upload's last one).
    TusFinish,
    /// tus: several large uploads at once, aggregate rate.
    TusParallel,
    /// tus: many small creation-with-upload uploads, concurrently.
    TusSmall,
    /// WebDAV PUT of the large file.
    DavPut,
    /// WebDAV GET of the large file.
    DavGet,
    /// PROPFIND Depth 1 of the listing folder, five named properties.
    PropfindNamed,
    /// PROPFIND Depth 1 of the listing folder, allprop.
    PropfindAllprop,
    /// DELETE of a folder of `listing_files` files into the trash, and its restore (spacedav).
    Trash,
    /// Name search over ten copies of the listing folder (spacedav).
    Search,
}

impl Workload {
    /// Every workload, in the order a round runs them.
    pub const ALL: [Workload; 11] = [
        Workload::TusSingle,
        Workload::TusCwu,
        Workload::TusFinish,
        Workload::TusParallel,
        Workload::TusSmall,
        Workload::DavPut,
        Workload::DavGet,
        Workload::PropfindNamed,
        Workload::PropfindAllprop,
        Workload::Trash,
        Workload::Search,
    ];

    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Workload::TusSingle => "tus-single",
            Workload::TusCwu => "tus-single-cwu",
            Workload::TusFinish => "tus-finish",
            Workload::TusParallel => "tus-parallel",
            Workload::TusSmall => "tus-small",
            Workload::DavPut => "dav-put",
            Workload::DavGet => "dav-get",
            Workload::PropfindNamed => "propfind-named",
            Workload::PropfindAllprop => "propfind-allprop",
            Workload::Trash => "trash-delete-restore",
            Workload::Search => "search-names",
        }
    }

    /// Whether `server` can run this workload.
    pub fn applies(self, server: &Running) -> bool {
        match self {
            Workload::TusCwu => server.tus.as_ref().is_some_and(|t| t.cwu),
            Workload::TusSingle
            | Workload::TusFinish
            | Workload::TusParallel
            | Workload::TusSmall => server.tus.is_some(),
            Workload::DavPut | Workload::DavGet => server.dav.is_some(),
            Workload::PropfindNamed | Workload::PropfindAllprop => {
                server.dav.as_ref().is_some_and(|d| d.propfind)
            }
            // The oCIS trash bin and REPORT search are spacedav's own.
            Workload::Trash | Workload::Search => server.kind == crate::servers::Kind::Spacedav,
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
pub const METRICS: [(&str, Better); 13] = [
    ("MiB/s", Better::Higher),
    ("aggregate MiB/s", Better::Higher),
    ("uploads/s", Better::Higher),
    ("last PATCH ms", Better::Lower),
    ("PATCH ms", Better::Lower),
    ("p50 ms", Better::Lower),
    ("p99 ms", Better::Lower),
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

/// The file GET reads (PUT once during setup).
const GET_FILE: &str = "bench-get.bin";
/// The folder PROPFIND lists (filled during setup).
const LISTING_DIR: &str = "bench-listing/";

/// Untimed preparation for a server, for the workloads that will run: the file to GET and
/// the folder to list. Returns the folder's fill rate (files/s) when there is one.
pub async fn setup(server: &Running, ctx: &Ctx, workloads: &[Workload]) -> Result<Option<f64>> {
    let Some(d) = &server.dav else {
        return Ok(None);
    };
    if workloads.contains(&Workload::DavGet) {
        let url = d.base.join(GET_FILE)?;
        dav::put(&mut d.ep.conn(), &url, &ctx.pattern, ctx.sizes.large).await?;
    }
    let lists = [
        Workload::PropfindNamed,
        Workload::PropfindAllprop,
        Workload::Trash,
        Workload::Search,
    ];
    if !d.propfind || !workloads.iter().any(|w| lists.contains(w)) {
        return Ok(None);
    }
    let s = &ctx.sizes;
    let dir = d.base.join(LISTING_DIR)?;
    let rate = dav::populate(
        d,
        &dir,
        &ctx.pattern,
        s.listing_files,
        s.listing_file_size,
        16,
    )
    .await?;
    if workloads
        .iter()
        .any(|w| matches!(w, Workload::Trash | Workload::Search))
        && server.kind == crate::servers::Kind::Spacedav
    {
        crate::recovery::setup(d, &dir).await?;
    }
    Ok(Some(rate))
}

/// Runs `w` against `server` once.
pub async fn run(w: Workload, server: &Running, ctx: &Ctx, round: usize) -> Result<Vec<Metric>> {
    let tag = format!("bench-r{round}-{}", w.name());
    let s = &ctx.sizes;
    match w {
        Workload::TusSingle | Workload::TusCwu => {
            let t = server.tus.as_ref().expect("applies() checked tus");
            let (elapsed, last) =
                uploads::large(server, t, ctx, &tag, w == Workload::TusCwu).await?;
            Ok(vec![
                rate("MiB/s", s.large as f64 / MIB / elapsed.as_secs_f64()),
                time_ms("last PATCH ms", last),
            ])
        }
        Workload::TusFinish => {
            let t = server.tus.as_ref().expect("applies() checked tus");
            let mut times = Vec::new();
            for i in 0..s.finish_reps {
                let mut conn = t.ep.conn();
                let name = format!("{tag}-{i}.bin");
                let (mut up, _) =
                    tus::create(&mut conn, t, &ctx.pattern, &name, s.finish, 0).await?;
                let start = Instant::now();
                tus::patch(&mut conn, &mut up, &ctx.pattern, s.finish).await?;
                times.push(start.elapsed());
                tus::remove(&mut conn, t, &up).await?;
            }
            times.sort();
            Ok(vec![time_ms("PATCH ms", times[times.len() / 2])])
        }
        Workload::TusParallel => {
            let t = server.tus.as_ref().expect("applies() checked tus");
            let elapsed = uploads::parallel(t, ctx, &tag).await?;
            let total = s.large as f64 * s.parallel as f64;
            Ok(vec![rate(
                "aggregate MiB/s",
                total / MIB / elapsed.as_secs_f64(),
            )])
        }
        Workload::TusSmall => {
            let t = server.tus.as_ref().expect("applies() checked tus");
            uploads::small(t, ctx, &tag).await
        }
        Workload::DavPut => {
            let d = server.dav.as_ref().expect("applies() checked dav");
            let url = d.base.join(&format!("{tag}.bin"))?;
            let mut conn = d.ep.conn();
            let start = Instant::now();
            dav::put(&mut conn, &url, &ctx.pattern, s.large).await?;
            let elapsed = start.elapsed();
            if ctx.verify {
                dav::get(&mut conn, &url, &ctx.pattern, s.large, true).await?;
            }
            dav::delete(&mut conn, &url).await?;
            Ok(vec![rate(
                "MiB/s",
                s.large as f64 / MIB / elapsed.as_secs_f64(),
            )])
        }
        Workload::DavGet => {
            let d = server.dav.as_ref().expect("applies() checked dav");
            let url = d.base.join(GET_FILE)?;
            let start = Instant::now();
            dav::get(&mut d.ep.conn(), &url, &ctx.pattern, s.large, ctx.verify).await?;
            Ok(vec![rate(
                "MiB/s",
                s.large as f64 / MIB / start.elapsed().as_secs_f64(),
            )])
        }
        Workload::PropfindNamed | Workload::PropfindAllprop => {
            let d = server.dav.as_ref().expect("applies() checked dav");
            listing(d, ctx, w == Workload::PropfindAllprop).await
        }
        Workload::Trash => {
            crate::recovery::trash(server.dav.as_ref().expect("spacedav speaks WebDAV")).await
        }
        Workload::Search => {
            let d = server.dav.as_ref().expect("spacedav speaks WebDAV");
            crate::recovery::search(d, s.listing_files).await
        }
    }
}

async fn listing(d: &DavTarget, ctx: &Ctx, allprop: bool) -> Result<Vec<Metric>> {
    let query = if allprop {
        dav::ALLPROP
    } else {
        dav::NAMED_PROPS
    };
    let l = dav::propfind(&mut d.ep.conn(), &d.base.join(LISTING_DIR)?, query).await?;
    let want = ctx.sizes.listing_files + 1;
    if l.responses != want {
        bail!("PROPFIND listed {} responses, expected {want}", l.responses);
    }
    Ok(vec![
        time_ms("total ms", l.total),
        time_ms("first byte ms", l.first_byte),
        Metric {
            name: "body MB",
            value: l.bytes as f64 / 1e6,
            better: Better::Neither,
        },
    ])
}
