-- WebDAV state: locks (RFC 4918 §6, §9.10), dead properties set by PROPPATCH (RFC 4918 §4.3)
-- and per-user favorites (`oc:favorite`). Portable SQL; times are unix ns.

-- A lock names a path, not a node: RFC 4918 lets a client lock an unmapped URL.
-- `path` is the `/a/b` form of a SpacePath ("/" for the space root).
CREATE TABLE dav_locks (
    token      TEXT PRIMARY KEY,
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    principal  TEXT,
    owner_xml  TEXT,
    timeout_s  BIGINT,
    expires_at BIGINT,
    shared     INTEGER NOT NULL,
    deep       INTEGER NOT NULL
);
CREATE INDEX dav_locks_space_path ON dav_locks(space_id, path);

-- Dead properties follow their node: MOVE keeps them, DELETE drops them.
CREATE TABLE dav_props (
    node_id   TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    xml       TEXT NOT NULL,
    PRIMARY KEY (node_id, namespace, name)
);

CREATE TABLE dav_favorites (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, node_id)
);
CREATE INDEX dav_favorites_node ON dav_favorites(node_id);
