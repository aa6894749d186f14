//! What the configuration (`[sharing]`, [`SharingPolicy`]) requires of links and shares:
//! passwords per link kind and expiry defaults and limits, checked the same way by OCS and
//! Graph, and announced in the capabilities' `files_sharing` ([`capabilities`]), so that a
//! client is told exactly what the server enforces.
//!
//! Link kinds are named as `files_sharing.public.password.enforced_for` names them, and a
//! link's bits map to them as ownCloud Web maps its link types (`useLinkTypes.ts`): view →
//! `read_only`, upload → `upload_only`, create-only (file drop) → `read_write`, edit →
//! `read_write_delete`.

use super::access::{CREATE, READ, SHARE};
use crate::config::SharingPolicy;
use crate::ocs::value::{Value, map};

const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// The `enforced_for` kind of a link with these bits.
pub fn link_kind(bits: u32) -> &'static str {
    match bits & !SHARE {
        READ => "read_only",
        b if b == READ | CREATE => "upload_only",
        CREATE => "read_write",
        _ => "read_write_delete",
    }
}

/// A link with `bits` must have a password, and has one or not.
pub fn link_password(policy: &SharingPolicy, bits: u32, has_password: bool) -> Result<(), String> {
    let kind = link_kind(bits);
    if !has_password && policy.link_password_enforced_for.iter().any(|k| k == kind) {
        return Err(format!("a password is required for {kind} links"));
    }
    Ok(())
}

/// The expiry a link gets: `requested` if allowed, else the default on creation.
pub fn link_expiry(
    policy: &SharingPolicy,
    requested: Option<i64>,
    creating: bool,
    now: i64,
) -> Result<Option<i64>, String> {
    expiry(
        "links",
        policy.link_expiry_days,
        policy.link_expiry_enforced,
        requested,
        creating,
        now,
    )
}

/// The expiry a user or group share gets: `requested` if allowed, else the default.
pub fn share_expiry(
    policy: &SharingPolicy,
    requested: Option<i64>,
    creating: bool,
    now: i64,
) -> Result<Option<i64>, String> {
    expiry(
        "shares",
        policy.share_expiry_days,
        policy.share_expiry_enforced,
        requested,
        creating,
        now,
    )
}

/// An expiry must lie ahead; an enforced one may lie no further than the end of the UTC day
/// `days` ahead (clients pick whole days) and cannot be removed. Without one, a new link or
/// share expires `days` from now when a default is set.
fn expiry(
    what: &str,
    days: Option<u64>,
    enforced: bool,
    requested: Option<i64>,
    creating: bool,
    now: i64,
) -> Result<Option<i64>, String> {
    let days = days.map(|d| i64::try_from(d).unwrap_or(i64::MAX / DAY_NS).min(100_000));
    match (requested, days) {
        (Some(t), _) if t <= now => Err("the expiry date is in the past".into()),
        (Some(t), Some(d)) if enforced && t > (now.div_euclid(DAY_NS) + d + 1) * DAY_NS => {
            Err(format!("{what} must expire within {d} days"))
        }
        (Some(t), _) => Ok(Some(t)),
        (None, Some(d)) if creating => Ok(Some(now + d * DAY_NS)),
        (None, Some(_)) if enforced => Err(format!("{what} must have an expiry date")),
        (None, _) => Ok(None),
    }
}

fn flag(b: bool) -> Value {
    Value::Flag(b)
}

fn expire_date(days: Option<u64>, enforced: bool) -> Value {
    match days {
        Some(d) => map([
            ("enabled", flag(true)),
            ("days", Value::Int(i64::try_from(d).unwrap_or(i64::MAX))),
            ("enforced", flag(enforced)),
        ]),
        None => map([("enabled", flag(false))]),
    }
}

/// The capabilities' `files_sharing`: sharing as it exists (user, group and public-link
/// shares, re-sharing within the sharer's rights) and this policy; no federation, no mail,
/// no avatars.
pub fn capabilities(policy: &SharingPolicy) -> Value {
    let enforced = |kind: &str| flag(policy.link_password_enforced_for.iter().any(|k| k == kind));
    let password = map([
        // ownCloud 10 clients read one flag: whether a read-only link needs a password (oCIS).
        ("enforced", enforced("read_only")),
        (
            "enforced_for",
            map([
                ("read_only", enforced("read_only")),
                ("read_write", enforced("read_write")),
                ("read_write_delete", enforced("read_write_delete")),
                ("upload_only", enforced("upload_only")),
            ]),
        ),
    ]);
    let share_expiry = || expire_date(policy.share_expiry_days, policy.share_expiry_enforced);
    map([
        ("api_enabled", flag(true)),
        ("resharing", flag(true)),
        ("group_sharing", flag(true)),
        ("auto_accept_share", flag(true)),
        ("share_with_group_members_only", flag(false)),
        ("share_with_membership_groups_only", flag(false)),
        ("default_permissions", Value::Int(1)),
        ("search_min_length", Value::Int(1)),
        (
            "public",
            map([
                ("enabled", flag(true)),
                ("multiple", flag(true)),
                ("upload", flag(true)),
                ("supports_upload_only", flag(true)),
                ("can_edit", flag(true)),
                ("can_contribute", flag(true)),
                ("send_mail", flag(false)),
                ("social_share", flag(false)),
                ("password", password),
                (
                    "expire_date",
                    expire_date(policy.link_expiry_days, policy.link_expiry_enforced),
                ),
            ]),
        ),
        (
            "user",
            map([
                ("send_mail", flag(false)),
                ("profile_picture", flag(false)),
                ("expire_date", share_expiry()),
            ]),
        ),
        ("group", map([("expire_date", share_expiry())])),
        (
            "user_enumeration",
            map([("enabled", flag(true)), ("group_members_only", flag(false))]),
        ),
        (
            "federation",
            map([("outgoing", flag(false)), ("incoming", flag(false))]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforced_expiry_allows_up_to_the_end_of_the_last_day() {
        let now = 10 * DAY_NS + 5;
        let week = SharingPolicy {
            link_expiry_days: Some(7),
            link_expiry_enforced: true,
            ..Default::default()
        };
        assert_eq!(
            link_expiry(&week, None, true, now),
            Ok(Some(now + 7 * DAY_NS))
        );
        assert!(link_expiry(&week, None, false, now).is_err());
        assert!(link_expiry(&week, Some(18 * DAY_NS - 1), true, now).is_ok());
        assert!(link_expiry(&week, Some(18 * DAY_NS + 1), true, now).is_err());
        assert!(link_expiry(&week, Some(now - 1), true, now).is_err());
        let free = SharingPolicy::default();
        assert_eq!(share_expiry(&free, None, true, now), Ok(None));
        assert_eq!(link_kind(READ | CREATE), "upload_only");
        assert_eq!(link_kind(CREATE), "read_write");
    }
}
