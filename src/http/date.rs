//! Dates on the wire of the JSON APIs (Graph, app tokens): RFC 3339 in UTC.

use crate::spaces::Mtime;

/// RFC 3339 UTC with nanoseconds, as Graph's `lastModifiedDateTime`.
pub fn rfc3339(t: Mtime) -> String {
    let secs = t.0.div_euclid(1_000_000_000);
    let nanos = t.0.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_table() {
        let rows = [
            (0, "1970-01-01T00:00:00.000000000Z"),
            (1_697_429_905_123_456_789, "2023-10-16T04:18:25.123456789Z"),
            (951_782_400_000_000_000, "2000-02-29T00:00:00.000000000Z"),
            (-1_000_000_000, "1969-12-31T23:59:59.000000000Z"),
        ];
        for (ns, want) in rows {
            assert_eq!(rfc3339(Mtime(ns)), want);
        }
    }
}
