//! The `spacedav` binary; everything it does is in [`spacedav::cli`].

/// mimalloc instead of glibc's malloc: glibc keeps what its per-thread arenas freed (the 1 MiB
/// batches of large uploads are freed on other threads than they were taken on), so the
/// resident memory after 4 × 1 GiB uploads stayed ~45 MiB above the start and grew by every
/// such burst; mimalloc returns freed pages to the system (issue 13), [`PURGE_DELAY_MS`] after
/// the free.
///
/// It serves SQLite's `malloc` and `free` too (libmimalloc-sys's `override`: the binary defines
/// them). SQLite copies every column of every row it hands to sqlx into memory of its own, and
/// under glibc's allocator a PROPFIND of 10,000 files spent about a sixth of its CPU in
/// `malloc` and `free`: 56.0 / 56.5 ms with glibc, 47.4 / 47.6 ms with mimalloc (2 A/B pairs of
/// 3 rounds); small PUTs, small uploads and the peaks of a whole run stayed within noise.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long mimalloc keeps freed memory before returning it to the system, ms. Its default
/// (1000 ms) kept 10 MiB more at the peaks of the benchmark's workloads (freed buffers of the
/// last second stacking on top of the next workload's); purging at once (0) makes every reused
/// buffer fault its pages in again: a 1 GiB GET takes 2.5× the CPU (0.88 instead of 0.35 s)
/// and runs at 1,100–1,240 MiB/s instead of 2,640–3,000. The delay also sets what an idle
/// server keeps between bursts, under the next burst's peak: at the start of each workload the
/// server was 8–12 MiB larger at 100 ms than at 0 (the idle collection in `collect` does not
/// reach it), and the peaks of 4 × 1 GiB tus uploads were 57–59 MiB at 100 ms, 52–53 at 10 ms
/// and 45–49 at 0, with the GET at 10 ms (2,690–2,880 MiB/s, 0.34 s of CPU) and every other
/// workload within noise (issue 13). `MIMALLOC_PURGE_DELAY` in the environment still wins.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (the 16th entry of `mi_option_e` in
/// `mimalloc.h`, the same in mimalloc 2 and 3; `libmimalloc-sys` has no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    no_huge_pages();
    purge_sooner();
    spacedav::cli::run_with_idle(collect)
}

/// Lets mimalloc collect what the calling thread freed and return memory freed longer than
/// [`PURGE_DELAY_MS`] ago: called by a runtime worker that ran out of work (at most once a
/// second per worker). Without it an idle server kept what its last burst freed: 17 MiB more
/// than after start-up, 15 s after four parallel 256 MiB uploads had ended (issue 13).
fn collect() {
    // SAFETY: `mi_collect` takes no pointers; it works on the calling thread's own heap and
    // on mimalloc's shared arenas under their own synchronisation.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(false);
    }
}

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`] unless the environment chose one.
fn purge_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` takes no pointers; it checks the index and writes one entry
        // of mimalloc's option table, here first thing in `main`, before any other thread
        // exists that could read the entry meanwhile.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
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
