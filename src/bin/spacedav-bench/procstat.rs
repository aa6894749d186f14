//! Server resource use from `/proc`: CPU seconds (utime + stime, all threads, plus reaped
//! children) and peak resident memory (`VmHWM`), summed over the server's process tree so
//! Apache's worker processes count. The peak is reset before each workload through
//! `/proc/PID/clear_refs` (write `5`, Linux ≥ 4.0), so it is the workload's own peak.

use std::fs;

/// Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// A measurement window over one server's process tree.
pub struct Probe {
    root: u32,
    ticks_before: u64,
    /// Resident memory when the window opened, MiB: a peak can't be reset below this, so a
    /// server that kept memory from an earlier workload shows it here.
    pub rss_start_mib: f64,
    /// False if the peak could not be reset: the figure is then the lifetime peak.
    pub peak_reset: bool,
}

/// Resource use over one window.
pub struct Usage {
    /// CPU seconds the server spent.
    pub cpu_s: f64,
    /// Sum over the tree of each process's peak RSS, MiB.
    pub peak_rss_mib: f64,
}

impl Probe {
    /// Resets the peaks and reads the CPU counters of `root` and its descendants.
    pub fn start(root: u32) -> Self {
        let pids = tree(root);
        let peak_reset = pids
            .iter()
            .all(|p| fs::write(format!("/proc/{p}/clear_refs"), "5").is_ok());
        let rss_kib: u64 = pids.iter().map(|&p| status_kib(p, "VmRSS:")).sum();
        Self {
            root,
            ticks_before: pids.iter().map(|&p| cpu_ticks(p)).sum(),
            rss_start_mib: rss_kib as f64 / 1024.0,
            peak_reset,
        }
    }

    /// Usage since [`Probe::start`].
    pub fn finish(&self) -> Usage {
        let pids = tree(self.root);
        let ticks: u64 = pids.iter().map(|&p| cpu_ticks(p)).sum();
        let hwm_kib: u64 = pids.iter().map(|&p| status_kib(p, "VmHWM:")).sum();
        Usage {
            cpu_s: ticks.saturating_sub(self.ticks_before) as f64 / TICKS_PER_SECOND,
            peak_rss_mib: hwm_kib as f64 / 1024.0,
        }
    }
}

/// CPU seconds `root` and its descendants have used so far, without touching the peaks: for
/// a workload that times only part of its window (its clean-up is untimed).
pub fn tree_cpu_s(root: u32) -> f64 {
    tree(root).iter().map(|&p| cpu_ticks(p)).sum::<u64>() as f64 / TICKS_PER_SECOND
}

/// CPU seconds this process (the load client) has used so far.
pub fn own_cpu_s() -> f64 {
    cpu_ticks_of("/proc/self/stat") as f64 / TICKS_PER_SECOND
}

/// `root` and every live descendant.
fn tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = stat_fields(&format!("/proc/{pid}/stat")).and_then(|f| f.ppid) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

fn cpu_ticks(pid: u32) -> u64 {
    cpu_ticks_of(&format!("/proc/{pid}/stat"))
}

fn cpu_ticks_of(path: &str) -> u64 {
    stat_fields(path).map_or(0, |f| f.ticks)
}

struct StatFields {
    ppid: Option<u32>,
    ticks: u64,
}

fn stat_fields(path: &str) -> Option<StatFields> {
    parse_stat(&fs::read_to_string(path).ok()?)
}

/// Parses `/proc/PID/stat`: fields after the parenthesised command name, which may itself
/// contain spaces and parentheses (proc(5)).
fn parse_stat(text: &str) -> Option<StatFields> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ticks = field(14)? + field(15)? + field(16)? + field(17)?;
    Some(StatFields {
        ppid: field(4).map(|p| p as u32),
        ticks,
    })
}

/// A `kB` field of `/proc/PID/status` (`VmHWM:`, `VmRSS:`), 0 if unreadable.
fn status_kib(pid: u32, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| parse_kib(&s, field))
        .unwrap_or(0)
}

fn parse_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194304 100 0 0 0 11 22 3 4 20 0 1 0 5 6 7";
        let f = parse_stat(line).unwrap();
        assert_eq!(f.ppid, Some(7));
        assert_eq!(f.ticks, 11 + 22 + 3 + 4);
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\tx\nVmHWM:\t  12345 kB\nVmRSS:\t1 kB\n";
        assert_eq!(parse_kib(status, "VmHWM:"), Some(12345));
        assert_eq!(parse_kib(status, "VmRSS:"), Some(1));
        assert_eq!(parse_kib("Name:\tx\n", "VmHWM:"), None);
    }

    #[test]
    fn own_process_is_measurable() {
        let p = Probe::start(std::process::id());
        assert!(p.finish().peak_rss_mib > 0.0);
    }
}
