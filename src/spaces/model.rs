//! The records of the metadata database as plain Rust values: users, spaces, members, nodes,
//! versions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use super::blob::BlobKey;
use super::checksum::Checksums;
use super::ids::{NodeId, SpaceId, UserId};

/// A configured user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id; also the uuid of the user's personal space.
    pub id: UserId,
    /// Login name (unique, case-insensitive).
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// argon2 PHC string.
    pub password_hash: String,
    /// Admins may create project spaces and list every space.
    pub is_admin: bool,
}

/// What to create with [`super::Store::create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub name: String,
    /// Display name (defaults to the name when empty).
    pub display_name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// argon2 PHC string (hash with `auth::hash_password`).
    pub password_hash: String,
    /// Admin flag.
    pub is_admin: bool,
}

/// Personal or project space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceKind {
    /// One per user, uuid = user id.
    Personal,
    /// Created by admins, shared by members.
    Project,
}

impl SpaceKind {
    /// The stored and Graph (`driveType`) spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            SpaceKind::Personal => "personal",
            SpaceKind::Project => "project",
        }
    }

    pub(crate) fn from_db(s: &str) -> Self {
        if s == "personal" {
            SpaceKind::Personal
        } else {
            SpaceKind::Project
        }
    }
}

/// A member's role in a space. Ordered: a manager can do all an editor can, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read only.
    Viewer,
    /// Read and write.
    Editor,
    /// Read, write and manage the space (owners of personal spaces are managers).
    Manager,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Manager => "manager",
        }
    }

    /// Parse the stored or CLI spelling.
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }

    /// Whether this role may change content.
    pub fn can_write(&self) -> bool {
        *self >= Role::Editor
    }
}

/// A space: a tree of nodes with its own quota and members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Wire id (`{storage}${uuid}`).
    pub id: SpaceId,
    /// Personal or project.
    pub kind: SpaceKind,
    /// Display name.
    pub name: String,
    /// `personal/<username>` or `project/<slug>`.
    pub alias: String,
    /// Owner (the user of a personal space; the creator of a project space).
    pub owner: UserId,
    /// Quota in bytes; `None` = unlimited.
    pub quota: Option<u64>,
    /// Free text shown by ownCloud Web under the space's name.
    pub description: Option<String>,
    /// Disabled by a manager: listed to managers only, no content access, purgeable.
    pub disabled: bool,
}

/// A named set of users; a group can hold a role in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Stable id.
    pub id: Uuid,
    /// Unique name (case-insensitive).
    pub name: String,
    /// Display name.
    pub display_name: String,
}

/// Who holds a role in a space: a user directly, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// A user.
    User(User),
    /// A group (every member gets the role).
    Group(Group),
}

/// What to create with [`super::Store::create_project_space`].
#[derive(Debug, Clone)]
pub struct NewSpace {
    /// Display name.
    pub name: String,
    /// Slug used in `project/<slug>`; derived from the name when `None`.
    pub alias: Option<String>,
    /// Quota in bytes; `None` = unlimited.
    pub quota: Option<u64>,
    /// Creator; becomes a manager.
    pub owner: UserId,
}

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A file with content in a blob.
    File,
    /// A folder.
    Folder,
}

/// Modification time with nanosecond precision, as unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mtime(pub i64);

impl Mtime {
    /// The current time.
    pub fn now() -> Self {
        Mtime::from(SystemTime::now())
    }

    /// From unix seconds and nanoseconds.
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        Mtime(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(nanos as i64),
        )
    }

    /// Whole unix seconds.
    pub fn unix_secs(&self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// As a `SystemTime`.
    pub fn system_time(&self) -> SystemTime {
        if self.0 >= 0 {
            UNIX_EPOCH + Duration::from_nanos(self.0 as u64)
        } else {
            UNIX_EPOCH - Duration::from_nanos(self.0.unsigned_abs())
        }
    }

    /// RFC 1123 form for `Last-Modified` and `getlastmodified`.
    pub fn http_date(&self) -> String {
        httpdate::fmt_http_date(self.system_time())
    }
}

impl From<SystemTime> for Mtime {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Mtime(d.as_nanos().min(i64::MAX as u128) as i64),
            Err(e) => Mtime(-(e.duration().as_nanos().min(i64::MAX as u128) as i64)),
        }
    }
}

/// A file or folder in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable id.
    pub id: NodeId,
    /// The space uuid (see [`SpaceId::space`]).
    pub space: Uuid,
    /// Parent folder; `None` for the space root.
    pub parent: Option<NodeId>,
    /// Name within the parent (empty for the root).
    pub name: String,
    /// File or folder.
    pub kind: NodeKind,
    /// Bytes: the content length of a file, the whole subtree of a folder.
    pub size: u64,
    /// Modification time.
    pub mtime: Mtime,
    /// Entity tag without quotes; changes with content, mtime, or (folders) anything below.
    pub etag: String,
    /// MIME type of a file.
    pub content_type: Option<String>,
    /// Recorded checksums of a file's content.
    pub checksums: Checksums,
    /// Blob key of a file's content.
    pub blob: Option<BlobKey>,
    /// Compare-and-set counter, bumped by every change of this row.
    pub version: i64,
}

impl Node {
    /// Whether this is a folder.
    pub fn is_folder(&self) -> bool {
        self.kind == NodeKind::Folder
    }

    /// The etag in quotes, as the `ETag` header and `getetag` carry it.
    pub fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }
}

/// An earlier content of a file, kept when the file was overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Stable id of this version.
    pub id: Uuid,
    /// Blob key of the content.
    pub blob: BlobKey,
    /// Content length in bytes.
    pub size: u64,
    /// The file's modification time while this was its content.
    pub mtime: Mtime,
    /// The file's entity tag (without quotes) while this was its content.
    pub etag: String,
    /// Recorded checksums of the content.
    pub checksums: Checksums,
    /// When the content was replaced, unix ns.
    pub created_at: i64,
}

/// Usage and limit of one space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Bytes stored (the root's subtree size).
    pub used: u64,
    /// Limit in bytes; `None` = unlimited.
    pub total: Option<u64>,
    /// Bytes promised to open uploads.
    pub reserved: u64,
}

impl Quota {
    /// Bytes that can still be written (`None` = unlimited).
    pub fn available(&self) -> Option<u64> {
        self.total
            .map(|t| t.saturating_sub(self.used).saturating_sub(self.reserved))
    }

    /// Whether `bytes` more fit.
    pub fn fits(&self, bytes: u64) -> bool {
        self.available().is_none_or(|a| bytes <= a)
    }
}
