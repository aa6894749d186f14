-- Groups (issue 10): named sets of users that can be granted a role in a space, per-user
-- settings (ownCloud Web's language), and what Graph's drive management needs on a space
-- (a description; disabled spaces stay until purged). Portable SQL; times are unix ns.

CREATE TABLE groups (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_lower   TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

-- A group's role in a space; a user's role is the highest of their own and their groups'.
CREATE TABLE group_grants (
    space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    PRIMARY KEY (space_id, group_id)
);
CREATE INDEX group_grants_group ON group_grants(group_id);

CREATE TABLE user_settings (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

ALTER TABLE spaces ADD COLUMN description TEXT;
ALTER TABLE spaces ADD COLUMN disabled_at BIGINT;
