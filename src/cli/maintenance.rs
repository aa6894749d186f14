//! Maintenance subcommands: `fsck` (re-hash stored files against their recorded checksums).

use std::process::ExitCode;

use super::admin::open;
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
