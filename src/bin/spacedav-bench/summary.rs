//! `--json-summary FILE`: the table's medians as JSON, one object per workload with, per
//! metric, each server's median (and range and count), and each server's CPU seconds and
//! peak RSS, so that a script can check ratios without parsing Markdown.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use crate::report::{Record, Stat, summarise};
use crate::workloads::{Better, Workload};

fn stat_json(s: &Stat) -> Value {
    json!({ "median": s.median, "min": s.min, "max": s.max, "n": s.n })
}

/// The summary of `records` as a JSON array, one object per workload in run order.
pub fn json_summary(records: &[Record]) -> Value {
    let sum = summarise(records);
    let mut workloads: Vec<Workload> = Vec::new();
    for (w, _) in &sum.order {
        if !workloads.contains(w) {
            workloads.push(*w);
        }
    }
    let out: Vec<Value> = workloads
        .iter()
        .map(|w| {
            let mut metrics = serde_json::Map::new();
            for key in sum.order.iter().filter(|(ow, _)| ow == w) {
                let Some((better, per)) = sum.metrics.get(key) else {
                    continue;
                };
                let servers: serde_json::Map<String, Value> = per
                    .iter()
                    .map(|(k, s)| (k.name().to_string(), stat_json(s)))
                    .collect();
                let better = match better {
                    Better::Higher => "higher",
                    Better::Lower => "lower",
                    Better::Neither => "neither",
                };
                metrics.insert(
                    key.1.to_string(),
                    json!({ "better": better, "servers": servers }),
                );
            }
            let mut cpu = BTreeMap::new();
            let mut rss = BTreeMap::new();
            for ((uw, k), (c, m)) in &sum.usage {
                if uw == w {
                    cpu.insert(k.name().to_string(), c.median);
                    rss.insert(k.name().to_string(), m.median);
                }
            }
            let errors: BTreeMap<String, usize> = sum
                .errors
                .iter()
                .filter(|((ew, _), _)| ew == w)
                .map(|((_, k), n)| (k.name().to_string(), *n))
                .collect();
            json!({
                "workload": w.name(),
                "metrics": metrics,
                "server_cpu_s": cpu,
                "server_peak_rss_mib": rss,
                "errors": errors,
            })
        })
        .collect();
    Value::Array(out)
}

/// Write [`json_summary`] of `records` to `path`.
pub fn write(path: &Path, records: &[Record]) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&json_summary(records))?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::from_jsonl;

    #[test]
    fn one_object_per_workload_with_each_servers_median() {
        let lines = [
            r#"{"round":1,"server":"spacedav","workload":"tus-small","metrics":{"uploads/s":100.0},"server_cpu_s":1.0,"server_peak_rss_mib":50.0}"#,
            r#"{"round":2,"server":"spacedav","workload":"tus-small","metrics":{"uploads/s":300.0},"server_cpu_s":3.0,"server_peak_rss_mib":70.0}"#,
            r#"{"round":1,"server":"rustus","workload":"tus-small","metrics":{"uploads/s":200.0},"server_cpu_s":2.0,"server_peak_rss_mib":40.0}"#,
        ];
        let records = from_jsonl(&lines.join("\n")).unwrap();
        let v = json_summary(&records);
        let all = v.as_array().unwrap();
        assert_eq!(all.len(), 1, "{v}");
        let w = &all[0];
        assert_eq!(w["workload"], "tus-small");
        let m = &w["metrics"]["uploads/s"];
        assert_eq!(m["better"], "higher");
        assert_eq!(m["servers"]["spacedav"]["median"], 200.0);
        assert_eq!(m["servers"]["spacedav"]["n"], 2);
        assert_eq!(m["servers"]["rustus"]["median"], 200.0);
        assert_eq!(w["server_cpu_s"]["spacedav"], 2.0);
        assert_eq!(w["server_peak_rss_mib"]["rustus"], 40.0);
    }
}
