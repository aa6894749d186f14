//! What the peers need besides a command line: Apache's config written from the template in
//! `bench/apache/`, and the version strings recorded with every run.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tokio::process::Command;

use crate::servers::{Kind, Tools};

/// The version of what `kind` runs, from its `--version` (or `package.json` for the Node
/// peer); empty if it cannot be told.
pub async fn version(kind: Kind, tools: &Tools) -> String {
    let first_line = |program: Option<&PathBuf>, arg: &'static str| {
        let program = program.cloned();
        async move {
            let out = Command::new(program?).arg(arg).output().await.ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            Some(text.lines().next()?.trim().to_owned())
        }
    };
    let package = |name: &str| {
        let path = tools
            .assets
            .join("tus-node/node_modules")
            .join(name)
            .join("package.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(format!("{name} {}", json["version"].as_str()?))
    };
    let v = match kind {
        Kind::Spacedav => first_line(Some(&tools.spacedav), "--version").await,
        Kind::Null | Kind::Hash => Some(format!("spacedav-bench {}", env!("CARGO_PKG_VERSION"))),
        Kind::Rustus => first_line(tools.rustus.as_ref(), "--version").await,
        Kind::Apache => first_line(tools.apache.as_ref(), "-v").await,
        Kind::TusNode => {
            let node = first_line(tools.node.as_ref(), "--version").await;
            let parts = [
                package("@tus/server"),
                package("@tus/file-store"),
                node.map(|n| format!("node {n}")),
            ];
            Some(parts.into_iter().flatten().collect::<Vec<_>>().join(", "))
        }
    };
    v.unwrap_or_default()
}

/// Writes the Apache config from `bench/apache/httpd.conf.tmpl` into `run_dir`. As root,
/// Apache's workers run as www-data, so the data and lock directories are handed to it.
pub fn apache_conf(tools: &Tools, run_dir: &Path, data: &Path, port: u16) -> Result<PathBuf> {
    let tmpl_path = tools.assets.join("apache/httpd.conf.tmpl");
    let tmpl = std::fs::read_to_string(&tmpl_path)
        .with_context(|| format!("reading {}", tmpl_path.display()))?;
    let lock = run_dir.join("lock");
    std::fs::create_dir_all(&lock)?;
    let root = is_root();
    if root {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(run_dir, std::fs::Permissions::from_mode(0o755))?;
        let status = std::process::Command::new("chown")
            .args(["-R", "www-data:www-data"])
            .arg(data)
            .arg(&lock)
            .status()?;
        if !status.success() {
            bail!("chown www-data failed");
        }
    }
    let conf = tmpl
        .replace("{{RUN_DIR}}", &run_dir.display().to_string())
        .replace("{{PORT}}", &port.to_string())
        .replace("{{DAV_ROOT}}", &data.display().to_string())
        .replace("{{MODULES}}", &tools.apache_modules.display().to_string())
        .replace(
            "{{USER_LINES}}",
            if root {
                "User www-data\nGroup www-data"
            } else {
                ""
            },
        );
    let path = run_dir.join("httpd.conf");
    std::fs::write(&path, conf)?;
    Ok(path)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            Some(line.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}
