//! One benchmark run: start the servers, prepare them, run every workload round-robin across
//! servers for several rounds (each round starts with a different server, so no server is
//! always first after the previous one's writeback), record JSON lines, stop the servers.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::procstat::{self, Probe};
use crate::report::{self, Record};
use crate::servers::{self, Kind, Running, Started, Tools};
use crate::workloads::{self, Ctx, Workload};

/// What to run.
pub struct Plan {
    pub servers: Vec<Kind>,
    pub workloads: Vec<Workload>,
    pub rounds: usize,
    pub out: PathBuf,
    /// Where `--json-summary` goes, if asked for.
    pub json_summary: Option<PathBuf>,
    /// Fail (exit non-zero) when a requested server is missing, not just when one breaks.
    pub strict: bool,
}

/// Runs the plan; returns whether everything requested ran without error.
pub async fn run(plan: Plan, tools: Tools, ctx: Ctx) -> Result<bool> {
    let mut out = std::fs::File::create(&plan.out)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    let mut ok = true;
    let mut running: Vec<Running> = Vec::new();
    for &kind in &plan.servers {
        match servers::start(kind, &tools).await {
            Ok(Started::Up(r)) => {
                println!("{:<10} started, pid {}{}", kind.name(), r.pid, describe(&r));
                running.push(*r);
            }
            Ok(Started::Missing(why)) => {
                println!("{:<10} skipped: {why}", kind.name());
                ok &= !plan.strict;
            }
            Err(e) => {
                println!("{:<10} failed to start: {e:#}", kind.name());
                ok = false;
            }
        }
    }

    let mut prepared = Vec::new();
    for r in running {
        let at = Instant::now();
        match workloads::setup(&r, &ctx, &plan.workloads).await {
            Ok(fill) => {
                if let Some(rate) = fill {
                    println!(
                        "{:<10} listing folder filled at {rate:.0} files/s",
                        r.kind.name()
                    );
                }
                write_line(
                    &mut out,
                    &json!({"ts": now(), "server": r.kind.name(),
                    "workload": "setup", "listing_fill_files_per_s": fill,
                    "wall_s": at.elapsed().as_secs_f64()}),
                )?;
                prepared.push(r);
            }
            Err(e) => {
                println!(
                    "{:<10} setup failed: {e:#} (log: {})",
                    r.kind.name(),
                    r.log_path().display()
                );
                ok = false;
                r.stop().await;
            }
        }
    }

    let mut records = Vec::new();
    for round in 0..plan.rounds {
        for &w in &plan.workloads {
            let n = prepared.len().max(1);
            for i in 0..prepared.len() {
                let server = &prepared[(i + round) % n];
                if !w.applies(server) {
                    continue;
                }
                let rec = measure(w, server, &ctx, round).await;
                ok &= rec.error.is_none();
                print_progress(&rec);
                write_line(&mut out, &rec.to_json())?;
                records.push(rec);
            }
        }
    }
    let kinds: Vec<Kind> = prepared.iter().map(|r| r.kind).collect();
    for r in prepared {
        r.stop().await;
    }
    println!();
    print!("{}", report::table(&records, &kinds, &plan.workloads));
    println!("\nraw results: {}", plan.out.display());
    if let Some(path) = &plan.json_summary {
        crate::summary::write(path, &records)?;
        println!("summary: {}", path.display());
    }
    Ok(ok)
}

async fn measure(w: Workload, server: &Running, ctx: &Ctx, round: usize) -> Record {
    let settle_s = crate::quiet::settle(server.dir())
        .await
        .map(|d| d.as_secs_f64());
    let probe = Probe::start(server.pid);
    let client_before = procstat::own_cpu_s();
    let start = Instant::now();
    let result = workloads::run(w, server, ctx, round).await;
    let wall_s = start.elapsed().as_secs_f64();
    let usage = probe.finish();
    let (metrics, error) = match result {
        Ok(m) => (m, None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    Record {
        ts: now(),
        round,
        server: server.kind,
        workload: w,
        metrics,
        server_cpu_s: usage.cpu_s,
        server_peak_rss_mib: usage.peak_rss_mib,
        server_rss_start_mib: probe.rss_start_mib,
        peak_reset: probe.peak_reset,
        client_cpu_s: procstat::own_cpu_s() - client_before,
        wall_s,
        settle_s,
        error,
    }
}

fn describe(r: &Running) -> String {
    let tus = match &r.tus {
        Some(t) if t.cwu => "; tus with creation-with-upload",
        Some(_) => "; tus",
        None => "",
    };
    let dav = match &r.dav {
        Some(d) if d.propfind => "; WebDAV",
        Some(_) => "; PUT/GET",
        None => "",
    };
    format!("{tus}{dav}")
}

fn print_progress(r: &Record) {
    let figures: Vec<String> = r
        .metrics
        .iter()
        .map(|m| format!("{} {:.1}", m.name, m.value))
        .collect();
    let what = match &r.error {
        Some(e) => format!("ERROR {e}"),
        None => figures.join(", "),
    };
    println!(
        "round {} {:<16} {:<10} {what} | server {:.2} CPU s, {:.0} MiB peak",
        r.round + 1,
        r.workload.name(),
        r.server.name(),
        r.server_cpu_s,
        r.server_peak_rss_mib
    );
}

fn write_line(out: &mut std::fs::File, v: &serde_json::Value) -> Result<()> {
    writeln!(out, "{v}")?;
    Ok(())
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
