-- Recovery (issue 11): the trash bin of each space. A deleted node keeps its row and its
-- subtree; only the top node is detached from the tree (`parent_id` NULL, like a space root
-- but with a row here), so deleting or restoring a folder of any size is one row update.
-- Versions already live in `versions` (0001). Times are unix ns.

CREATE TABLE trash (
    node_id    TEXT PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    location   TEXT NOT NULL,      -- original path from the space root, "a/b/name"
    deleted_at BIGINT NOT NULL,
    deleted_by TEXT                -- user id, when known
);
CREATE INDEX trash_space ON trash(space_id, deleted_at);
CREATE INDEX trash_deleted ON trash(deleted_at);
CREATE INDEX versions_created ON versions(created_at);
