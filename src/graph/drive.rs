//! The Graph `drive` resource of a space (SPEC §7, research/ocis-spec.md §7), built from the
//! store's space, quota and root node.

use serde_json::{Value, json};

use crate::http::rfc3339;
use crate::spaces::{Node, Quota, Space};

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
}
