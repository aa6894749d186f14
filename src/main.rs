//! The `spacedav` binary; everything it does is in [`spacedav::cli`].

/// mimalloc instead of glibc's malloc: glibc keeps what its per-thread arenas freed (the 1 MiB
/// batches of large uploads are freed on other threads than they were taken on), so the
/// resident memory after 4 × 1 GiB uploads stayed ~45 MiB above the start and grew by every
/// such burst; mimalloc returns freed pages to the system within milliseconds (issue 13).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    spacedav::cli::run()
}
