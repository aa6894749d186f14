//! Results: one record per (round, server, workload), written as JSON lines, and the summary
//! table of medians with ratios to spacedav and to both ceilings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::servers::Kind;
use crate::workloads::{Better, METRICS, Metric, Workload};

/// One measurement of one workload on one server.
pub struct Record {
    pub ts: f64,
    pub round: usize,
    pub server: Kind,
    pub workload: Workload,
    pub metrics: Vec<Metric>,
    pub server_cpu_s: f64,
    pub server_peak_rss_mib: f64,
    /// Resident memory when the workload started (kept from earlier work).
    pub server_rss_start_mib: f64,
    /// False when the peak could not be reset and is the server's lifetime peak.
    pub peak_reset: bool,
    pub client_cpu_s: f64,
    pub wall_s: f64,
    /// How long the disk took to go quiet before the workload (`quiet.rs`), untimed.
    pub settle_s: Option<f64>,
    pub error: Option<String>,
}

impl Record {
    /// The JSON line for this record.
    pub fn to_json(&self) -> serde_json::Value {
        let metrics: serde_json::Map<String, serde_json::Value> = self
            .metrics
            .iter()
            .map(|m| (m.name.to_owned(), json!(m.value)))
            .collect();
        json!({
            "ts": self.ts, "round": self.round + 1, "server": self.server.name(),
            "workload": self.workload.name(), "metrics": metrics,
            "server_cpu_s": self.server_cpu_s, "server_peak_rss_mib": self.server_peak_rss_mib,
            "server_rss_start_mib": self.server_rss_start_mib,
            "peak_reset": self.peak_reset, "client_cpu_s": self.client_cpu_s,
            "wall_s": self.wall_s, "settle_s": self.settle_s, "error": self.error,
        })
    }
}

/// Reads records back from JSON lines (written by [`Record::to_json`]); setup lines and
/// unknown names are skipped.
pub fn from_jsonl(text: &str) -> anyhow::Result<Vec<Record>> {
    use clap::ValueEnum as _;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let server = Kind::value_variants()
            .iter()
            .find(|k| v["server"] == k.name());
        let workload = Workload::ALL.iter().find(|w| v["workload"] == w.name());
        let (Some(&server), Some(&workload)) = (server, workload) else {
            continue;
        };
        let metrics = v["metrics"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| {
                let &(name, better) = METRICS.iter().find(|(n, _)| n == name)?;
                Some(Metric {
                    name,
                    value: value.as_f64()?,
                    better,
                })
            })
            .collect();
        let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
        out.push(Record {
            ts: f("ts"),
            round: (f("round") as usize).saturating_sub(1),
            server,
            workload,
            metrics,
            server_cpu_s: f("server_cpu_s"),
            server_peak_rss_mib: f("server_peak_rss_mib"),
            server_rss_start_mib: f("server_rss_start_mib"),
            peak_reset: v["peak_reset"].as_bool().unwrap_or(false),
            client_cpu_s: f("client_cpu_s"),
            wall_s: f("wall_s"),
            settle_s: v["settle_s"].as_f64(),
            error: v["error"].as_str().map(str::to_owned),
        });
    }
    Ok(out)
}

/// Median, minimum, maximum and count of some values.
#[derive(Clone, Copy)]
pub(crate) struct Stat {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) n: usize,
}

fn stat(mut v: Vec<f64>) -> Option<Stat> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Stat {
        median,
        min: v[0],
        max: v[n - 1],
        n,
    })
}

/// How much better `value` is than `reference` (> 1 = better, whatever the metric's direction).
fn relative(better: Better, value: f64, reference: f64) -> Option<f64> {
    let r = match better {
        Better::Higher => value / reference,
        Better::Lower => reference / value,
        Better::Neither => return None,
    };
    r.is_finite().then_some(r)
}

pub(crate) type Key = (Workload, &'static str);

pub(crate) struct Summary {
    /// Workload and metric pairs in the order the workloads report them.
    pub(crate) order: Vec<Key>,
    /// Per workload and metric: direction and each server's figures.
    pub(crate) metrics: BTreeMap<Key, (Better, BTreeMap<Kind, Stat>)>,
    /// Per workload and server: CPU seconds and peak RSS.
    pub(crate) usage: BTreeMap<(Workload, Kind), (Stat, Stat)>,
    pub(crate) errors: BTreeMap<(Workload, Kind), usize>,
}

pub(crate) fn summarise(records: &[Record]) -> Summary {
    let mut values: BTreeMap<Key, (Better, BTreeMap<Kind, Vec<f64>>)> = BTreeMap::new();
    let mut usage: BTreeMap<(Workload, Kind), (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut order = Vec::new();
    for r in records {
        if r.error.is_some() {
            *errors.entry((r.workload, r.server)).or_insert(0) += 1;
            continue;
        }
        for m in &r.metrics {
            if !order.contains(&(r.workload, m.name)) {
                order.push((r.workload, m.name));
            }
            let e = values
                .entry((r.workload, m.name))
                .or_insert((m.better, BTreeMap::new()));
            e.1.entry(r.server).or_default().push(m.value);
        }
        let u = usage.entry((r.workload, r.server)).or_default();
        u.0.push(r.server_cpu_s);
        u.1.push(r.server_peak_rss_mib);
    }
    Summary {
        order,
        metrics: values
            .into_iter()
            .map(|(k, (b, per))| {
                let per = per
                    .into_iter()
                    .filter_map(|(s, v)| Some((s, stat(v)?)))
                    .collect();
                (k, (b, per))
            })
            .collect(),
        usage: usage
            .into_iter()
            .filter_map(|(k, (c, m))| Some((k, (stat(c)?, stat(m)?))))
            .collect(),
        errors,
    }
}

fn ratio_cell(better: Better, s: &Stat, per: &BTreeMap<Kind, Stat>, reference: Kind) -> String {
    per.get(&reference)
        .and_then(|r| relative(better, s.median, r.median))
        .map_or_else(|| "–".into(), |x| format!("{x:.2}"))
}

fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The Markdown summary: medians, ranges, ratios, server CPU and peak RSS, then the largest
/// gaps between spacedav and the best peer or a ceiling.
pub fn table(records: &[Record], servers: &[Kind], workloads: &[Workload]) -> String {
    let sum = summarise(records);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Medians over rounds (min–max). Ratios are relative performance: > 1 means better than \
         the reference (spacedav, null sink, hash sink), for rates and times alike.\n"
    );
    let _ = writeln!(
        out,
        "| workload | metric | server | median | min–max | n | vs spacedav | vs null | vs hash | server CPU s | peak RSS MiB |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    for &w in workloads {
        let mut first_metric = true;
        for key @ (mw, name) in &sum.order {
            let Some((better, per)) = sum.metrics.get(key).filter(|_| *mw == w) else {
                continue;
            };
            for &k in servers {
                let Some(s) = per.get(&k) else { continue };
                let (cpu, rss) = match (first_metric, sum.usage.get(&(w, k))) {
                    (true, Some((c, m))) => (num(c.median), num(m.median)),
                    _ => (String::new(), String::new()),
                };
                let _ = writeln!(
                    out,
                    "| {} | {name} | {} | {} | {}–{} | {} | {} | {} | {} | {cpu} | {rss} |",
                    w.name(),
                    k.name(),
                    num(s.median),
                    num(s.min),
                    num(s.max),
                    s.n,
                    ratio_cell(*better, s, per, Kind::Spacedav),
                    ratio_cell(*better, s, per, Kind::Null),
                    ratio_cell(*better, s, per, Kind::Hash),
                );
            }
            first_metric = false;
        }
    }
    for ((w, k), n) in &sum.errors {
        let _ = writeln!(
            out,
            "\n{} on {}: {n} failed run(s), see the JSON lines",
            w.name(),
            k.name()
        );
    }
    out.push_str(&gaps(&sum));
    out
}

/// spacedav's largest gaps: to the best peer on each metric, and to the ceilings.
fn gaps(sum: &Summary) -> String {
    let mut to_peer = Vec::new();
    let mut to_ceiling = Vec::new();
    for key @ (w, name) in &sum.order {
        let (better, per) = &sum.metrics[key];
        let Some(ours) = per.get(&Kind::Spacedav) else {
            continue;
        };
        let mut best: Option<(f64, Kind, f64)> = None;
        for (&k, s) in per {
            let Some(r) = relative(*better, ours.median, s.median) else {
                continue;
            };
            let row = (r, k, s.median);
            match k {
                Kind::Spacedav | Kind::SpacedavBearer | Kind::SpacedavCluster => {}
                Kind::Null | Kind::Hash => to_ceiling.push((r, gap_line(w, name, ours, row))),
                Kind::Rustus | Kind::TusNode | Kind::Apache => {
                    // The best peer is the one spacedav compares worst against.
                    if best.is_none_or(|b| r < b.0) {
                        best = Some(row);
                    }
                }
            }
        }
        if let Some(row) = best {
            to_peer.push((row.0, gap_line(w, name, ours, row)));
        }
    }
    let mut out = String::new();
    for (title, mut rows) in [("the best peer", to_peer), ("a ceiling", to_ceiling)] {
        if rows.is_empty() {
            continue;
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let _ = writeln!(
            out,
            "\nLargest gaps to {title} (spacedav's relative performance, < 1 = behind):"
        );
        for (r, line) in rows.iter().take(3) {
            let _ = writeln!(out, "  {r:.2}  {line}");
        }
    }
    out
}

fn gap_line(w: &Workload, name: &str, ours: &Stat, (_, k, theirs): (f64, Kind, f64)) -> String {
    format!(
        "{} {name}: spacedav {} vs {} {}",
        w.name(),
        num(ours.median),
        k.name(),
        num(theirs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_count_is_the_mean_of_the_middle_two() {
        let s = stat(vec![4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 4.0, 4));
        assert!(stat(vec![]).is_none());
    }

    #[test]
    fn records_survive_a_json_round_trip() {
        let rec = Record {
            ts: 1.0,
            round: 2,
            server: Kind::Hash,
            workload: Workload::TusSmall,
            metrics: vec![Metric {
                name: "p99 ms",
                value: 3.5,
                better: Better::Lower,
            }],
            server_cpu_s: 0.5,
            server_peak_rss_mib: 7.0,
            server_rss_start_mib: 5.0,
            peak_reset: true,
            client_cpu_s: 0.1,
            wall_s: 2.0,
            settle_s: Some(0.4),
            error: None,
        };
        let back = from_jsonl(&format!("{}\n{{\"workload\":\"setup\"}}\n", rec.to_json())).unwrap();
        assert_eq!(back.len(), 1, "the setup line is skipped");
        let b = &back[0];
        assert_eq!(
            (b.round, b.server, b.workload),
            (2, Kind::Hash, Workload::TusSmall)
        );
        assert_eq!(b.metrics[0].name, "p99 ms");
        assert_eq!(
            (b.metrics[0].value, b.metrics[0].better),
            (3.5, Better::Lower)
        );
    }

    #[test]
    fn relative_is_above_one_when_better_in_either_direction() {
        assert_eq!(relative(Better::Higher, 200.0, 100.0), Some(2.0));
        assert_eq!(relative(Better::Lower, 50.0, 100.0), Some(2.0));
        assert_eq!(relative(Better::Neither, 1.0, 2.0), None);
        assert_eq!(relative(Better::Higher, 1.0, 0.0), None);
    }
}
