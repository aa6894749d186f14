//! The `spacedav` binary; everything it does is in [`spacedav::cli`].

/// mimalloc instead of glibc's malloc: glibc keeps what its per-thread arenas freed (the 1 MiB
/// batches of large uploads are freed on other threads than they were taken on), so the
/// resident memory after 4 × 1 GiB uploads stayed ~45 MiB above the start and grew by every
/// such burst; mimalloc returns freed pages to the system (issue 13). It does so a second after
/// the free (`purge_delay`, 1000 ms in mimalloc 3) and only on the freeing thread's next
/// allocation, so an idle thread keeps what it freed. Purging at once (`MIMALLOC_PURGE_DELAY=0`)
/// halves the anonymous memory at rest (12 instead of 31 MiB right after start-up), but every
/// reused buffer then faults its pages in again: a 1 GiB GET took 3× the CPU (1.0 instead of
/// 0.33 s), so the default stays.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_huge_pages();
    spacedav::cli::run()
}

/// Turns transparent huge pages off for this process. mimalloc asks for them on its arenas
/// (`madvise(MADV_HUGEPAGE)`, which Debian's default `madvise` mode honours), and then the
/// first byte touched in any 2 MiB stretch makes all of it resident, and a purge of freed
/// 64 KiB pieces inside it frees nothing until the whole stretch is free: with them the peaks
/// of the benchmark's workloads were 10 to 25 MiB higher (tus-parallel 66–72 instead of
/// 45–49 MiB, a 1 GiB upload 55–58 instead of 29), for no measurable CPU gain (server CPU of
/// the 1 GiB GET, PUT and uploads within noise, issue 13). The flag covers the mappings made
/// before `main` too; it is checked when a page is faulted in.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        // Only a kernel without the call (before 3.15) refuses; the server works all the same.
        eprintln!("spacedav: transparent huge pages stay on: {e}");
    }
}
