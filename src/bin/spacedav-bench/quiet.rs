//! Waiting for the disk to go quiet before a measurement.
//!
//! `sync` returns once dirty pages are written, but the device may still be busy with what the
//! previous workload left: ext4 mounted with `discard` trims the extents of deleted files
//! (every server deletes its 1-4 GiB uploads), and a measurement that started meanwhile would
//! pay for another server's deletions. So each measurement waits until the block device under
//! the work dir completed no request (read, write, discard or flush) for [`QUIET`], at most
//! [`PATIENCE`], reading the device's counters from `/sys/dev/block/MAJ:MIN/stat`. On the
//! machine of issue 13 the device was always quiet right after `sync` (every wait 0.32-0.53
//! s): the drift between runs there comes from below the guest, which no counter here shows;
//! the wait stays as a guard for disks that trim or write back after `sync`.

use std::path::Path;
use std::time::{Duration, Instant};

/// How long the device must have done nothing.
const QUIET: Duration = Duration::from_millis(300);

/// The longest wait: a device another process keeps busy never goes quiet.
const PATIENCE: Duration = Duration::from_secs(15);

/// How often the counters are read.
const POLL: Duration = Duration::from_millis(20);

/// `sync`, then wait for the device holding `dir` to go quiet. Returns how long it waited,
/// or `None` where the device's counters can't be read (the wait is then the `sync` alone).
pub async fn settle(dir: &Path) -> Option<Duration> {
    let _ = tokio::process::Command::new("sync").status().await;
    let stat = stat_path(dir)?;
    let start = Instant::now();
    let mut last = counters(&stat)?;
    let mut since = Instant::now();
    while since.elapsed() < QUIET {
        if start.elapsed() >= PATIENCE {
            break;
        }
        tokio::time::sleep(POLL).await;
        let now = counters(&stat)?;
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    Some(start.elapsed())
}

/// The stat file of the block device (or partition) that holds `dir`.
fn stat_path(dir: &Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    let dev = std::fs::metadata(dir).ok()?.dev();
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    let path = Path::new("/sys/dev/block").join(format!("{major}:{minor}/stat"));
    path.exists().then_some(path)
}

/// The device's completed requests of every kind and those in flight (Documentation/block/
/// stat.rst: fields 1 and 5 are reads and writes completed, 9 in flight, 12 discards and 16
/// flushes completed; older kernels have only the first 11).
fn counters(stat: &Path) -> Option<[u64; 5]> {
    let text = std::fs::read_to_string(stat).ok()?;
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let pick = |i: usize| fields.get(i - 1).copied().unwrap_or(0);
    Some([pick(1), pick(5), pick(9), pick(12), pick(16)])
}
