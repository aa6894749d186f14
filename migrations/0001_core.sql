-- Core schema: users, spaces, members, the node tree, versions, quota reservations, and the
-- minimal upload-session row the blob sweep needs (the tus layer extends it in later migrations).
-- Portable SQL: runs on SQLite and PostgreSQL. Sizes and times are BIGINT (times: unix ns).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_lower    TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE spaces (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    alias      TEXT NOT NULL UNIQUE,
    owner_id   TEXT NOT NULL,
    quota      BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    PRIMARY KEY (space_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    space_id     TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    parent_id    TEXT REFERENCES nodes(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    size         BIGINT NOT NULL DEFAULT 0,
    mtime        BIGINT NOT NULL,
    etag         TEXT NOT NULL,
    content_type TEXT,
    sha1         TEXT,
    md5          TEXT,
    adler32      TEXT,
    blob         TEXT,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX nodes_parent_name ON nodes(parent_id, name);
CREATE INDEX nodes_space ON nodes(space_id);
CREATE INDEX nodes_blob ON nodes(blob);

CREATE TABLE versions (
    id         TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    blob       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    mtime      BIGINT NOT NULL,
    etag       TEXT NOT NULL,
    sha1       TEXT,
    md5        TEXT,
    adler32    TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX versions_node ON versions(node_id);
CREATE INDEX versions_blob ON versions(blob);

CREATE TABLE reservations (
    id         TEXT PRIMARY KEY,
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    bytes      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX reservations_space ON reservations(space_id);

CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    blob       TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX uploads_blob ON uploads(blob);
