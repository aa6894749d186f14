-- Sharing (issue 12): shares with users and groups, and public links, in one table.
-- `id` is the integer id OCS hands out (pyocclient's delete_share wants an integer, as
-- ownCloud 10 gave); `uid` is the id Graph shows. `permissions` is the OCS bitmask
-- (1 read, 2 update, 4 create, 8 delete, 16 share). Links carry a random token (128+ bits)
-- and an optional argon2 password hash. Portable SQL; times are unix ns.

CREATE TABLE shares (
    id            BIGINT PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    space_id      TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    node_id       TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    created_by    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grantee       TEXT,
    permissions   BIGINT NOT NULL,
    token         TEXT UNIQUE,
    name          TEXT,
    password_hash TEXT,
    expires_at    BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX shares_node ON shares(node_id);
CREATE INDEX shares_grantee ON shares(grantee);
CREATE INDEX shares_creator ON shares(created_by);
