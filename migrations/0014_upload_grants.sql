-- The grant an upload session was created through (issue 12: a deleted or expired link, a
-- revoked share or a removed member ends access at once, uploads included). Each later request
-- to the session's `/data/` URL and the commit that completes it check that the grant still
-- holds (`spaces::upload_grant`). At most one of `grant_link` / `grant_node` is set:
--   grant_link: the link's share id (`shares.id`), for an upload made through a public link;
--   grant_node: the node the uploader's received shares were found on (the mount or folder),
--               for an upload made through a share;
--   neither:    the uploader's own role in the space (rows from before this migration too).
-- `grant_need` is the OCS permission bit the creation needed (4 create, 2 update).
-- No foreign key on `grant_link`: a deleted link must leave the row for the check to refuse.
ALTER TABLE uploads ADD COLUMN grant_link BIGINT;
ALTER TABLE uploads ADD COLUMN grant_node TEXT;
ALTER TABLE uploads ADD COLUMN grant_need BIGINT;
