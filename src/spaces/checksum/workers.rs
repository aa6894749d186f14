//! The threads that hash streams ([`super::HashPipe`]): a pool of their own whose threads run
//! at the scheduler's idle priority, so that hashing takes only the CPU time that receiving,
//! writing and answering requests leave over.
//!
//! Why: on a machine with few cores, a stream's MD5 and SHA1 workers keep every core busy.
//! At normal priority a request's own task (reading the next frame of a body, the write that
//! follows it, a PROPFIND beside the upload) then waits for the end of a hash worker's time
//! slice before it runs again: the 1 MiB body of a final PATCH took 1.8–3 ms to arrive, so
//! its sync started late, and the PATCH took 5.6–7.6 ms. A thread under `SCHED_IDLE` gives
//! way at once to any other thread that wakes up; with the hashing there, the same body
//! arrives in ~1 ms, the sync overlaps the hashing, and the PATCH takes ~4.6 ms. Hashing
//! loses nothing by it: it still has every cycle nothing else wants, and a stream cannot
//! finish before its hashing does anyway.
//!
//! An unprivileged thread cannot leave `SCHED_IDLE` again, so the hashing cannot borrow
//! tokio's shared blocking pool: these threads are their own, made by a runtime that exists
//! only for its blocking pool (it grows with the number of streams, as a pipe's workers
//! each hold a thread for the length of a request, and lets idle threads go).

use std::sync::OnceLock;

/// Run `job` on a hashing thread; the handle resolves to its result.
pub(super) fn spawn<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    pool().spawn_blocking(job)
}

fn pool() -> &'static tokio::runtime::Handle {
    static POOL: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    POOL.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .thread_name("spacedav-hash")
            .on_thread_start(lower_priority)
            .build()
            .expect("the hashing threads' runtime starts")
    })
    .handle()
}

/// Put the calling thread in the idle scheduling class. Where that is refused (a platform
/// without it, a sandbox), the thread hashes at normal priority, as it always could.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            static ONCE: OnceLock<()> = OnceLock::new();
            ONCE.get_or_init(|| {
                tracing::info!(error = ?e, "hashing threads run at normal priority");
            });
        }
    }
}

#[cfg(test)]
mod tests {
    /// The pool's threads really are in the idle class (on Linux, where it exists).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_in_the_idle_scheduling_class() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let policy = super::spawn(thread_priority::thread_schedule_policy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
        let here = thread_priority::thread_schedule_policy().unwrap();
        assert_eq!(
            here,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
            "the caller's thread keeps its class"
        );
    }
}
