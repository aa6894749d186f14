//! Expiry dates on the wire: OCS sends `YYYY-MM-DD` (valid through that day, UTC) or
//! `YYYY-MM-DD HH:MM:SS`; Graph sends RFC 3339 UTC. Stored as unix ns.

const NS: i64 = 1_000_000_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parse an expiry; a date alone means the end of that day.
pub fn parse_expiry(v: &str) -> Result<i64, String> {
    let bad = || format!("invalid expiry date {v}");
    let v = v.trim();
    let (date, time) = match v.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let mut it = date.split('-');
    let (y, m, d) = (
        it.next().and_then(num).ok_or_else(bad)?,
        it.next().and_then(num).ok_or_else(bad)?,
        it.next().and_then(num).ok_or_else(bad)?,
    );
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let day = days_from_civil(y, m, d);
    let secs = match time {
        None => (day + 1) * 86_400,
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let t = t.split(['+']).next().unwrap_or(t);
            let t = t.split('.').next().unwrap_or(t);
            let mut parts = t.split(':');
            let h = parts.next().and_then(num).ok_or_else(bad)?;
            let mi = parts.next().and_then(num).ok_or_else(bad)?;
            let s = parts.next().map(num).unwrap_or(Some(0)).ok_or_else(bad)?;
            if h > 23 || mi > 59 || s > 60 {
                return Err(bad());
            }
            day * 86_400 + h * 3600 + mi * 60 + s
        }
    };
    Ok(secs * NS)
}

/// `YYYY-MM-DD HH:MM:SS` as OCS shows an expiration.
pub fn format_ocs(ns: i64) -> String {
    let secs = ns.div_euclid(NS);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        r / 3600,
        r % 3600 / 60,
        r % 60
    )
}

/// RFC 3339 UTC, as Graph shows an expiration.
pub fn format_rfc3339(ns: i64) -> String {
    format_ocs(ns).replacen(' ', "T", 1) + "Z"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_round_trip() {
        assert_eq!(parse_expiry("1970-01-01"), Ok(86_400 * NS));
        let t = parse_expiry("2031-02-28T13:14:15Z").unwrap();
        assert_eq!(format_rfc3339(t), "2031-02-28T13:14:15Z");
        assert_eq!(
            format_ocs(parse_expiry("2031-02-28 01:02:03").unwrap()),
            "2031-02-28 01:02:03"
        );
        for bad in ["tomorrow", "2031-13-01", "2031-02", "2031-02-28T25:00:00Z"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }
}
