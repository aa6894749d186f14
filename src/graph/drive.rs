//! The Graph `drive` resource of a space (SPEC §7, research/ocis-spec.md §7), built from the
//! store's space, quota and root node.

use serde_json::{Value, json};

use crate::spaces::{Mtime, Node, Quota, Space};

/// `quota.state` from usage: normal ≤ 75 %, nearing ≤ 90 %, critical ≤ 99 %, else exceeded;
/// an unlimited quota (`total` 0) is always normal.
pub fn quota_state(used: u64, total: u64) -> &'static str {
    if total == 0 {
        return "normal";
    }
    let used = u128::from(used) * 100;
    let total = u128::from(total);
    if used <= 75 * total {
        "normal"
    } else if used <= 90 * total {
        "nearing"
    } else if used <= 99 * total {
        "critical"
    } else {
        "exceeded"
    }
}

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

/// The drive JSON of `space`. `free` is the free space of the backing store, reported as
/// `remaining` when the space has no quota; `permissions` are its members
/// ([`super::permissions::permission`]), which Web needs to know who may upload.
pub fn drive(
    base: &str,
    space: &Space,
    root: &Node,
    quota: Quota,
    free: u64,
    permissions: Vec<Value>,
) -> Value {
    let sid = space.id.to_string();
    let total = quota.total.unwrap_or(0);
    let remaining = quota.available().unwrap_or(free);
    let mut root_json = json!({
        "id": sid,
        "eTag": root.quoted_etag(),
        "webDavUrl": format!("{base}/dav/spaces/{sid}"),
        "permissions": permissions,
    });
    if space.disabled {
        root_json["deleted"] = json!({"state": "trashed"});
    }
    json!({
        "id": sid,
        "driveType": space.kind.as_str(),
        "driveAlias": space.alias,
        "name": space.name,
        "owner": {"user": {"id": space.owner.to_string(), "displayName": ""}},
        "quota": {
            "total": total,
            "used": quota.used,
            "remaining": remaining,
            "state": quota_state(quota.used, total),
        },
        "root": root_json,
        "description": space.description.clone().unwrap_or_default(),
        "webUrl": format!("{base}/f/{sid}"),
        "lastModifiedDateTime": rfc3339(root.mtime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_state_table() {
        let rows = [
            (0, 0, "normal"),
            (5, 0, "normal"),
            (0, 100, "normal"),
            (75, 100, "normal"),
            (76, 100, "nearing"),
            (90, 100, "nearing"),
            (91, 100, "critical"),
            (99, 100, "critical"),
            (100, 100, "exceeded"),
            (150, 100, "exceeded"),
            (u64::MAX, u64::MAX, "exceeded"),
        ];
        for (used, total, want) in rows {
            assert_eq!(quota_state(used, total), want, "{used}/{total}");
        }
    }

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
