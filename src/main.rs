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
    spacedav::cli::run()
}
