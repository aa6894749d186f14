//! Maintenance subcommands: `fsck` (re-hash stored files against their recorded checksums) and
//! `uploads` (list and clean tus upload sessions).

use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use super::UploadsCommand;
use super::open::open;
use crate::config::Config;

/// `spacedav fsck`: prints one line per damaged file and a summary; exit code 1 if any.
pub(crate) async fn fsck(config: Config) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let store = state.store();
    let report = store.fsck().await?;
    for problem in &report.problems {
        let path = match store.path_of(&problem.node).await {
            Ok(path) => path.to_string(),
            Err(_) => format!("node {}", problem.node.id),
        };
        let space = store.space_id(problem.node.space);
        println!("DAMAGED\t{space}\t{path}\t{}", problem.reason);
    }
    println!(
        "checked {} files, {} bytes: {} damaged",
        report.checked,
        report.bytes,
        report.problems.len()
    );
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `spacedav uploads ...`.
pub(crate) async fn uploads(config: Config, cmd: UploadsCommand) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let tus = crate::tus::TusService::new(state.store().clone(), state.config());
    match cmd {
        UploadsCommand::List => {
            for s in tus.list_uploads().await? {
                let space = state.store().space_id(s.space);
                let target = s
                    .target
                    .as_ref()
                    .map_or_else(|| "-".into(), |p| p.to_string());
                let length = s.length.map_or_else(|| "?".into(), |l| l.to_string());
                let state = if s.done { "done" } else { "open" };
                let expires = UNIX_EPOCH + Duration::from_secs(s.expires_secs().max(0) as u64);
                println!(
                    "{}\t{space}\t{target}\t{}/{length}\t{state}\texpires {}",
                    s.id,
                    s.offset,
                    httpdate::fmt_http_date(expires)
                );
            }
        }
        UploadsCommand::Clean => {
            let removed = tus.clean_expired().await?;
            println!("removed {removed} expired uploads");
        }
    }
    Ok(ExitCode::SUCCESS)
}
