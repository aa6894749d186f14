//! The `spacedav` binary; everything it does is in [`spacedav::cli`].

/// mimalloc instead of glibc's malloc: glibc keeps what its per-thread arenas freed (the 1 MiB
/// batches of large uploads are freed on other threads than they were taken on), so the
/// resident memory after 4 × 1 GiB uploads stayed ~45 MiB above the start and grew by every
/// such burst; mimalloc returns freed pages to the system (issue 13).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option for how long freed memory stays committed before it goes back to the
/// system, read from the environment when the allocator starts.
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";

fn main() -> std::process::ExitCode {
    purge_promptly();
    spacedav::cli::run()
}

/// Run with freed memory going back to the system at once. mimalloc 3 waits a second
/// (`purge_delay` 1000 ms) and purges only when the thread that freed the memory allocates
/// again, so what an idle thread freed stays resident for good: 30 of the 33 MiB of
/// anonymous memory right after start-up (argon2's 19 MiB of the admin password among it),
/// and the buffers of a burst of uploads after it. The option can only be given before the
/// allocator starts, which is before `main`, so the process replaces itself once with the
/// option set (same PID, arguments and environment otherwise). An operator's own value is
/// kept; if the re-exec fails, spacedav runs on with the default.
fn purge_promptly() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(PURGE_DELAY).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let err = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env(PURGE_DELAY, "0")
        .exec();
    eprintln!("spacedav: running with mimalloc's default purge delay ({err})");
}
