-- Small contents stored in the metadata database (issue 13): a file's `blob` (in `nodes` and
-- `versions`) that starts with `inline:` names a row here instead of a blob in the blob store.
-- The row is written in the same transaction as the node that points at it, so bytes and tree
-- become durable with one WAL sync. Rows are write-once and shared by copies, like blobs, and
-- freed once no node or version names them. BYTEA: SQLite keeps the bytes as a BLOB value
-- (a column's declared type never converts a BLOB), PostgreSQL as bytea.

CREATE TABLE inline_contents (
    key   TEXT PRIMARY KEY,
    data  BYTEA NOT NULL
);
