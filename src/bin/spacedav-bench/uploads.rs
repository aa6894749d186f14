//! The tus upload patterns the workloads time: one large upload, several at once, many small
//! ones, and the untimed checks and clean-up after them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::task::JoinSet;
use url::Url;

use crate::dav;
use crate::measure::{Better, Ctx, Metric, rate, time_ms};
use crate::procstat;
use crate::servers::{Kind, Running};
use crate::sink;
use crate::tus::{self, TusTarget, Upload};

/// One large upload in `chunk` PATCHes whose last carries `finish` bytes. Returns the time
/// from POST to the last answer and the last PATCH's own time.
pub async fn large(
    server: &Running,
    t: &TusTarget,
    ctx: &Ctx,
    tag: &str,
    cwu: bool,
) -> Result<(Duration, Duration)> {
    let s = &ctx.sizes;
    let plan = tus::plan(s.large, s.chunk, s.finish);
    let mut conn = t.ep.conn();
    let name = format!("{tag}.bin");
    let first = if cwu { plan[0] } else { 0 };
    let start = Instant::now();
    let (mut up, mut headers) =
        tus::create(&mut conn, t, &ctx.pattern, &name, s.large, first).await?;
    let mut last = start.elapsed();
    for &n in &plan[usize::from(cwu)..] {
        let at = Instant::now();
        headers = tus::patch(&mut conn, &mut up, &ctx.pattern, n).await?;
        last = at.elapsed();
    }
    let elapsed = start.elapsed();
    if ctx.verify {
        verify_upload(server, &up, &headers, ctx).await?;
    }
    tus::remove(&mut conn, t, &up).await?;
    Ok((elapsed, last))
}

/// Checks a finished large upload: the hash sink's digests, or the file's content over WebDAV.
async fn verify_upload(
    server: &Running,
    up: &Upload,
    headers: &http::HeaderMap,
    ctx: &Ctx,
) -> Result<()> {
    let len = ctx.sizes.large;
    if server.kind == Kind::Hash {
        let want = sink::expected_checksums(&ctx.pattern, len);
        let got = headers.get(sink::CHECKSUMS).and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            bail!("hash sink digests {got:?}, expected {want}");
        }
    }
    if let (Some(d), Kind::Spacedav | Kind::SpacedavBearer) = (&server.dav, server.kind) {
        let url: Url = d.base.join(&up.filename)?;
        dav::get(&mut d.ep.conn(), &url, &ctx.pattern, len, true).await?;
    }
    Ok(())
}

/// `parallel` large uploads at once, one connection each; returns the wall time.
pub async fn parallel(t: &TusTarget, ctx: &Ctx, tag: &str) -> Result<Duration> {
    let s = &ctx.sizes;
    let plan = Arc::new(tus::plan(s.large, s.chunk, 0));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..s.parallel {
        let (mut conn, pattern, plan) = (t.ep.conn(), ctx.pattern.clone(), plan.clone());
        let (name, large, t) = (format!("{tag}-{i}.bin"), s.large, t.clone());
        tasks.spawn(async move {
            let (mut up, _) = tus::create(&mut conn, &t, &pattern, &name, large, 0).await?;
            for &n in plan.iter() {
                tus::patch(&mut conn, &mut up, &pattern, n).await?;
            }
            anyhow::Ok(up)
        });
    }
    let mut uploads = Vec::new();
    while let Some(r) = tasks.join_next().await {
        uploads.push(r??);
    }
    let elapsed = start.elapsed();
    let mut conn = t.ep.conn();
    for up in &uploads {
        tus::remove(&mut conn, t, up).await?;
    }
    Ok(elapsed)
}

/// Many small uploads from `small_workers` connections: uploads/s, p50 and p99 latency, and
/// the server's CPU per upload over the timed part alone (the workload's own CPU column also
/// counts the untimed clean-up, which is a WebDAV DELETE into the trash on spacedav but a
/// bare tus termination elsewhere).
pub async fn small(t: &TusTarget, server_pid: u32, ctx: &Ctx, tag: &str) -> Result<Vec<Metric>> {
    let s = &ctx.sizes;
    let next = Arc::new(AtomicU64::new(0));
    let cpu_before = procstat::tree_cpu_s(server_pid);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..s.small_workers {
        let (mut conn, pattern, next) = (t.ep.conn(), ctx.pattern.clone(), next.clone());
        let t = t.clone();
        let (tag, count, size) = (tag.to_owned(), s.small_count, s.small_size);
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(done);
                }
                let name = format!("{tag}-{i:05}.bin");
                let at = Instant::now();
                let up = if t.cwu {
                    tus::create(&mut conn, &t, &pattern, &name, size, size)
                        .await?
                        .0
                } else {
                    let (mut up, _) = tus::create(&mut conn, &t, &pattern, &name, size, 0).await?;
                    tus::patch(&mut conn, &mut up, &pattern, size).await?;
                    up
                };
                done.push((at.elapsed(), up));
            }
        });
    }
    let mut done = Vec::new();
    while let Some(r) = tasks.join_next().await {
        done.extend(r??);
    }
    let elapsed = start.elapsed();
    let cpu_s = procstat::tree_cpu_s(server_pid) - cpu_before;
    let mut lat: Vec<Duration> = done.iter().map(|(d, _)| *d).collect();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let metrics = vec![
        rate("uploads/s", done.len() as f64 / elapsed.as_secs_f64()),
        time_ms("p50 ms", pct(0.50)),
        time_ms("p99 ms", pct(0.99)),
        Metric {
            name: "server CPU ms/upload",
            value: cpu_s * 1e3 / done.len() as f64,
            better: Better::Lower,
        },
    ];
    remove_all(
        t,
        done.into_iter().map(|(_, up)| up).collect(),
        s.small_workers,
    )
    .await?;
    Ok(metrics)
}

/// Removes uploads with `workers` connections (clean-up, untimed).
async fn remove_all(t: &TusTarget, uploads: Vec<Upload>, workers: usize) -> Result<()> {
    let queue = Arc::new(std::sync::Mutex::new(uploads));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (mut conn, queue) = (t.ep.conn(), queue.clone());
        let t = t.clone();
        tasks.spawn(async move {
            loop {
                let Some(up) = queue.lock().unwrap().pop() else {
                    return anyhow::Ok(());
                };
                tus::remove(&mut conn, &t, &up).await?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}
