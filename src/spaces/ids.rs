//! Identifier newtypes and their wire forms (SPEC §0 notation).
//!
//! A space id is `{storage-id}${space-uuid}`, a resource id `{storage-id}${space-uuid}!{node-uuid}`.
//! Clients may send both percent-encoded (`%24` for `$`, `%21` for `!`).

use std::fmt;
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of a node (file or folder). Never changes for the life of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub Uuid);

impl NodeId {
    /// A fresh random id.
    pub fn new() -> Self {
        NodeId(Uuid::new_v4())
    }
}

impl Default for NodeId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a tus upload session, which is also the id of its quota reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadId(pub Uuid);

impl UploadId {
    /// A fresh random id.
    pub fn new() -> Self {
        UploadId(Uuid::new_v4())
    }
}

impl Default for UploadId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A user id. A personal space has the uuid of its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A space id as clients see it: storage id plus space uuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId {
    /// The installation's storage id.
    pub storage: Uuid,
    /// The space's own uuid (the root node id; the owner's user id for personal spaces).
    pub space: Uuid,
}

impl SpaceId {
    /// The node id of this space's root folder.
    pub fn root(&self) -> NodeId {
        NodeId(self.space)
    }

    /// The resource id of a node in this space.
    pub fn resource(&self, node: NodeId) -> ResourceId {
        ResourceId { space: *self, node }
    }
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}${}", self.storage, self.space)
    }
}

/// Why an id in a URL could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed id: {0}")]
pub struct MalformedId(pub String);

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl FromStr for SpaceId {
    type Err = MalformedId;

    /// Accepts `{storage}${space}`, percent-encoded or not.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = decode(s);
        let (a, b) = d.split_once('$').ok_or_else(|| MalformedId(s.into()))?;
        Ok(SpaceId {
            storage: Uuid::parse_str(a).map_err(|_| MalformedId(s.into()))?,
            space: Uuid::parse_str(b).map_err(|_| MalformedId(s.into()))?,
        })
    }
}

/// A resource id: a node in a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceId {
    /// The space holding the node.
    pub space: SpaceId,
    /// The node.
    pub node: NodeId,
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}!{}", self.space, self.node)
    }
}

impl FromStr for ResourceId {
    type Err = MalformedId;

    /// Accepts `{storage}${space}!{node}`, percent-encoded or not.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = decode(s);
        let (sp, node) = d.split_once('!').ok_or_else(|| MalformedId(s.into()))?;
        Ok(ResourceId {
            space: sp.parse().map_err(|_| MalformedId(s.into()))?,
            node: NodeId(Uuid::parse_str(node).map_err(|_| MalformedId(s.into()))?),
        })
    }
}

/// Either form a client may put where a space id is expected (SPEC §1: a folder's rid is
/// accepted in place of the sid and addresses that folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceRef {
    /// The space root.
    Space(SpaceId),
    /// A node inside the space.
    Resource(ResourceId),
}

impl SpaceRef {
    /// The space this reference points into.
    pub fn space(&self) -> SpaceId {
        match self {
            SpaceRef::Space(s) => *s,
            SpaceRef::Resource(r) => r.space,
        }
    }
}

impl FromStr for SpaceRef {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if decode(s).contains('!') {
            s.parse().map(SpaceRef::Resource)
        } else {
            s.parse().map(SpaceRef::Space)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_and_resource_ids_round_trip_and_accept_percent_encoding() {
        let sid = SpaceId {
            storage: Uuid::new_v4(),
            space: Uuid::new_v4(),
        };
        assert_eq!(sid.to_string().parse::<SpaceId>().unwrap(), sid);
        let enc = sid.to_string().replace('$', "%24");
        assert_eq!(enc.parse::<SpaceId>().unwrap(), sid);
        let rid = sid.resource(NodeId::new());
        assert_eq!(rid.to_string().parse::<ResourceId>().unwrap(), rid);
        let enc = rid.to_string().replace('$', "%24").replace('!', "%21");
        assert_eq!(enc.parse::<SpaceRef>().unwrap(), SpaceRef::Resource(rid));
        assert_eq!(
            sid.to_string().parse::<SpaceRef>().unwrap(),
            SpaceRef::Space(sid)
        );
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in ["", "abc", "x$y", "00000000-0000-0000-0000-000000000000"] {
            assert!(bad.parse::<SpaceId>().is_err(), "{bad}");
        }
    }
}
