-- Several nodes on one database (issue 14).
-- `cluster_settings`: values every node of one installation must agree on; `storage_id` (the
-- first half of every space id) is stored by the first node that starts.
-- `cluster_leases`: a named role one node holds at a time until `expires_at` (unix ns), renewed
-- by its holder; `sweeper` is the node that runs the housekeeping sweeps.
CREATE TABLE cluster_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE cluster_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
