//! `spacedav serve`: open the state, make sure an admin exists, bind, announce the address on
//! stdout, serve until SIGINT/SIGTERM and let in-flight requests finish.

use std::io::Write;
use std::process::ExitCode;

use super::init_tracing;
use crate::config::Loaded;
use crate::state::AppState;
use crate::tus::TusState;
use anyhow::Context;

/// Runs the server; returns when a shutdown signal arrived and open requests are done.
pub(crate) async fn serve(loaded: Loaded) -> anyhow::Result<ExitCode> {
    let Loaded { config, notes } = loaded;
    init_tracing(config.log_format, "info");
    for note in notes {
        tracing::info!("{note}");
    }
    tracing::info!(config = ?config, "starting");
    let listen = config.listen;
    // A wrong Web build path fails the start loudly, not the first browser visit.
    if let Some(dir) = &config.web_assets_path {
        crate::web::check_assets(dir)?;
    }
    // Creates `admin` on first start and prints its password once (before the address line).
    let state = AppState::open(config)
        .await
        .context("cannot open the data root")?;
    let state = TusState::new(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // Handlers go in before the address is announced: a SIGTERM sent by whoever read the line
    // must reach the graceful path, not the default action.
    let shutdown = shutdown_signal()?;
    // Tests and scripts read this exact line to learn the bound port.
    let mut out = std::io::stdout().lock();
    writeln!(out, "spacedav listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    crate::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Installs the SIGINT and SIGTERM handlers now; the future resolves on the first of them.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutdown signal received; finishing open requests");
    })
}
