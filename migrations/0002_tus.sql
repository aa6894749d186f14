-- tus upload sessions (SPEC §3-§4, DESIGN.md "Uploads"): extends the minimal `uploads` row of
-- 0001 with everything a session needs so that any process can serve any request of it.
-- Times are unix ns; sizes bytes. `upload_offset` is advanced by compare-and-set on `version`.

ALTER TABLE uploads ADD COLUMN state TEXT NOT NULL DEFAULT 'open';      -- open | done
ALTER TABLE uploads ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN created_by TEXT;                         -- user id
ALTER TABLE uploads ADD COLUMN role TEXT;                               -- creator's role then
ALTER TABLE uploads ADD COLUMN target_path TEXT;                        -- NULL for a partial upload
ALTER TABLE uploads ADD COLUMN upload_length BIGINT;                    -- NULL = deferred
ALTER TABLE uploads ADD COLUMN upload_offset BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN metadata TEXT NOT NULL DEFAULT '';       -- raw Upload-Metadata
ALTER TABLE uploads ADD COLUMN content_type TEXT;
ALTER TABLE uploads ADD COLUMN mtime BIGINT;                            -- metadata mtime
ALTER TABLE uploads ADD COLUMN checksum TEXT;                           -- metadata "alg hex"
ALTER TABLE uploads ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;      -- quota reserved
ALTER TABLE uploads ADD COLUMN if_match TEXT;                           -- etag seen at creation
ALTER TABLE uploads ADD COLUMN concat TEXT;                             -- NULL | partial | final
ALTER TABLE uploads ADD COLUMN parts TEXT;                              -- final: part ids, space-separated
ALTER TABLE uploads ADD COLUMN node_id TEXT;                            -- done: the committed file
CREATE INDEX uploads_expires ON uploads(expires_at);
