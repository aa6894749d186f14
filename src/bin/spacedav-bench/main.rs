//! `spacedav-bench`: spacedav side by side with rustus, @tus/server, Apache mod_dav and two
//! ceilings (a null sink and a hash-bound sink), interleaved on one machine (issue 6).
//!
//! `spacedav-bench run` starts the servers, runs the workloads round-robin and prints a table;
//! `spacedav-bench run --smoke` is the seconds-long variant CI runs; `spacedav-bench sink` is
//! the ceiling server the run starts as a child process. See README.md, "Benchmark".

mod client;
mod dav;
mod measure;
mod pattern;
mod procstat;
mod quiet;
mod recovery;
mod report;
mod runner;
mod servers;
mod signin;
mod sink;
mod summary;
mod tus;
mod uploads;
mod workloads;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};

use crate::servers::{Kind, Tools};
use crate::workloads::{Ctx, Sizes, Workload};

#[derive(Parser)]
#[command(
    version,
    about = "spacedav benchmark: spacedav, peers and ceilings side by side"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the servers, run the workloads interleaved, print the table.
    Run(Box<RunArgs>),
    /// Print the table again from a run's JSON lines.
    Report {
        /// The `--out` file of a run.
        jsonl: PathBuf,
        /// Also write the medians as JSON (one object per workload) to this file.
        #[arg(long)]
        json_summary: Option<PathBuf>,
    },
    /// Serve a ceiling sink (used by `run`; prints its address on stdout).
    Sink {
        #[arg(long, value_enum)]
        kind: sink::SinkKind,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Seconds-long run with small sizes against spacedav and the null sink, verifying content.
    #[arg(long)]
    smoke: bool,
    /// Rounds (default 5, smoke 2).
    #[arg(long)]
    rounds: Option<usize>,
    /// Servers to run (default: all; smoke: spacedav,null).
    #[arg(long, value_enum, value_delimiter = ',')]
    servers: Vec<Kind>,
    /// Workloads to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    workloads: Vec<Workload>,
    /// Where to write the JSON lines.
    #[arg(long, default_value = "spacedav-bench.jsonl")]
    out: PathBuf,
    /// Also write the medians as JSON (one object per workload, with each metric's median
    /// per server) to this file.
    #[arg(long)]
    json_summary: Option<PathBuf>,
    /// Check uploaded content (GET from spacedav, digests from the hash sink). On in smoke.
    #[arg(long)]
    verify: bool,
    /// The spacedav binary (default: next to this one).
    #[arg(long)]
    spacedav_bin: Option<PathBuf>,
    /// The rustus binary (default: `rustus` on PATH).
    #[arg(long)]
    rustus: Option<PathBuf>,
    /// The node binary (default: `node` on PATH).
    #[arg(long)]
    node: Option<PathBuf>,
    /// The Apache binary (default: /usr/sbin/apache2, or `apache2`/`httpd` on PATH).
    #[arg(long)]
    apache: Option<PathBuf>,
    /// Apache's module directory.
    #[arg(long, default_value = "/usr/lib/apache2/modules")]
    apache_modules: PathBuf,
    /// The repository's bench/ directory (peer assets).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/bench"))]
    assets: PathBuf,
    /// Also run spacedav with Bearer JWTs from its built-in OpenID Connect provider
    /// (`spacedav-bearer`), next to Basic.
    #[arg(long)]
    bearer: bool,
    /// Where the servers' temporary data directories go (default: the system temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Sink { kind, listen } => {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!(
                "spacedav-bench {kind:?} sink listening on http://{}",
                listener.local_addr()?
            );
            sink::serve(kind, listener).await
        }
        Cmd::Report {
            jsonl,
            json_summary,
        } => {
            let text = std::fs::read_to_string(&jsonl)
                .with_context(|| format!("reading {}", jsonl.display()))?;
            let records = report::from_jsonl(&text)?;
            let mut kinds: Vec<Kind> = records.iter().map(|r| r.server).collect();
            kinds.sort();
            kinds.dedup();
            print!("{}", report::table(&records, &kinds, &Workload::ALL));
            if let Some(path) = json_summary {
                summary::write(&path, &records)?;
            }
            Ok(())
        }
        Cmd::Run(args) => {
            if !run(args).await? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

async fn run(a: Box<RunArgs>) -> Result<bool> {
    let exe = std::env::current_exe()?;
    let tools = Tools {
        spacedav: a
            .spacedav_bin
            .unwrap_or_else(|| exe.with_file_name("spacedav")),
        rustus: a.rustus.or_else(|| on_path("rustus")),
        node: a.node.or_else(|| on_path("node")),
        apache: a.apache.or_else(|| {
            let debian = Path::new("/usr/sbin/apache2");
            (debian.is_file().then(|| debian.to_owned()))
                .or_else(|| on_path("apache2"))
                .or_else(|| on_path("httpd"))
        }),
        apache_modules: a.apache_modules,
        assets: a.assets,
        work_dir: a.work_dir.unwrap_or_else(std::env::temp_dir),
    };
    let servers = match (a.servers.is_empty(), a.smoke) {
        (false, _) => a.servers,
        (true, true) => vec![Kind::Spacedav, Kind::Null],
        (true, false) => vec![
            Kind::Spacedav,
            Kind::Null,
            Kind::Hash,
            Kind::Rustus,
            Kind::TusNode,
            Kind::Apache,
        ],
    };
    let mut servers = servers;
    if a.bearer && !servers.contains(&Kind::SpacedavBearer) {
        let at = servers
            .iter()
            .position(|k| *k == Kind::Spacedav)
            .map_or(0, |i| i + 1);
        servers.insert(at, Kind::SpacedavBearer);
    }
    let workloads = if a.workloads.is_empty() {
        Workload::ALL.to_vec()
    } else {
        a.workloads
    };
    let ctx = Ctx {
        pattern: pattern::Pattern::new(),
        sizes: if a.smoke {
            Sizes::smoke()
        } else {
            Sizes::full()
        },
        verify: a.verify || a.smoke,
    };
    let plan = runner::Plan {
        servers,
        workloads,
        rounds: a.rounds.unwrap_or(if a.smoke { 2 } else { 5 }),
        out: a.out,
        json_summary: a.json_summary,
        strict: a.smoke,
    };
    runner::run(plan, tools, ctx).await.context("benchmark run")
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
