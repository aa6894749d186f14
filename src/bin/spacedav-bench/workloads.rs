//! The measurements. Each workload runs against one server and returns its figures; the
//! runner wraps it with CPU and memory probes and interleaves servers. Setup (files to GET,
//! the folder to list) and clean-up happen outside the timed regions.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::dav::{self, DavTarget};
use crate::servers::Running;
use crate::tus;
use crate::uploads;

pub use crate::measure::{Better, Ctx, METRICS, Metric, Sizes, rate, time_ms};

const MIB: f64 = (1 << 20) as f64;

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
    /// WebDAV PUT of small files (the listing's size), one after another on one connection.
    DavSmall,
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
    pub const ALL: [Workload; 12] = [
        Workload::TusSingle,
        Workload::TusCwu,
        Workload::TusFinish,
        Workload::TusParallel,
        Workload::TusSmall,
        Workload::DavPut,
        Workload::DavSmall,
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
            Workload::DavSmall => "dav-small",
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
            // Folders: the sinks only take and give single files.
            Workload::DavSmall | Workload::PropfindNamed | Workload::PropfindAllprop => {
                server.dav.as_ref().is_some_and(|d| d.propfind)
            }
            // The oCIS trash bin and REPORT search are spacedav's own.
            Workload::Trash | Workload::Search => server.kind == crate::servers::Kind::Spacedav,
        }
    }
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
            uploads::small(t, server.pid, ctx, &tag).await
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
        Workload::DavSmall => {
            let d = server.dav.as_ref().expect("applies() checked dav");
            small_puts(d, ctx, &tag).await
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

/// `small_count` PUTs of `listing_file_size` bytes into a new folder, each sent once the
/// previous one was answered (a sync client's or a script's pattern: every answer waits for
/// its own durable commit); the folder is deleted afterwards, untimed.
async fn small_puts(d: &DavTarget, ctx: &Ctx, tag: &str) -> Result<Vec<Metric>> {
    let s = &ctx.sizes;
    let dir = d.base.join(&format!("{tag}/"))?;
    let mut conn = d.ep.conn();
    dav::mkcol(&mut conn, &dir).await?;
    let mut times = Vec::with_capacity(s.small_count as usize);
    let start = Instant::now();
    for i in 0..s.small_count {
        let url = dir.join(&format!("f{i:05}.bin"))?;
        let one = Instant::now();
        dav::put(&mut conn, &url, &ctx.pattern, s.listing_file_size).await?;
        times.push(one.elapsed());
    }
    let elapsed = start.elapsed();
    if ctx.verify {
        let url = dir.join(&format!("f{:05}.bin", s.small_count - 1))?;
        dav::get(&mut conn, &url, &ctx.pattern, s.listing_file_size, true).await?;
    }
    dav::delete(&mut conn, &dir).await?;
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    Ok(vec![
        rate("files/s", s.small_count as f64 / elapsed.as_secs_f64()),
        time_ms("p50 ms", at(0.5)),
        time_ms("p99 ms", at(0.99)),
    ])
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
