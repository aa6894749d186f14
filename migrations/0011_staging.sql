-- Blob stores that stage an upload's bytes elsewhere than under its final key (S3 multipart
-- uploads, issue 14): the backend's opaque record of the staged bytes (multipart upload id,
-- parts with their etags, the tail object below a part; empty for local disk), moved by the
-- same compare-and-set on `version` as `upload_offset`, and the next part number no request
-- has had yet (handed out by `UPDATE ... RETURNING`, never twice).

ALTER TABLE uploads ADD COLUMN staging TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN next_part BIGINT NOT NULL DEFAULT 1;
