//! The consistency check: re-hash every stored file and compare with its recorded checksums.

use futures::TryStreamExt;
use tokio::io::AsyncReadExt;

use super::Store;
use super::checksum::Hasher;
use super::db::{NODE_COLS, node_from_row};
use super::error::StoreResult;
use super::model::Node;

/// One file whose stored bytes do not match what the database says.
#[derive(Debug, Clone)]
pub struct FsckProblem {
    /// The file.
    pub node: Node,
    /// What is wrong.
    pub reason: String,
}

/// The outcome of [`Store::fsck`].
#[derive(Debug, Clone, Default)]
pub struct FsckReport {
    /// Files checked.
    pub checked: u64,
    /// Bytes re-hashed.
    pub bytes: u64,
    /// Files whose blob is missing, has another length, or other checksums.
    pub problems: Vec<FsckProblem>,
}

impl Store {
    /// Re-hash every file's blob and compare length, SHA1, MD5 and ADLER32 with the node.
    pub async fn fsck(&self) -> StoreResult<FsckReport> {
        let mut report = FsckReport::default();
        let sql =
            format!("SELECT {NODE_COLS} FROM nodes WHERE kind = 'file' ORDER BY space_id, id");
        let mut rows = sqlx::query(&sql).fetch(&self.db);
        let mut buf = vec![0u8; 1 << 20];
        while let Some(row) = rows.try_next().await? {
            let node = node_from_row(&row)?;
            report.checked += 1;
            let Some(key) = node.blob.clone() else {
                report.problems.push(FsckProblem {
                    node,
                    reason: "no blob recorded".into(),
                });
                continue;
            };
            let mut reader = match self.open_content(&key, None).await {
                Ok(r) => r,
                Err(e) => {
                    report.problems.push(FsckProblem {
                        node,
                        reason: format!("blob {key}: {e}"),
                    });
                    continue;
                }
            };
            let mut hasher = Hasher::new(false);
            let mut len = 0u64;
            loop {
                let n = reader.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                len += n as u64;
            }
            report.bytes += len;
            let got = hasher.finish().recorded;
            let reason = if len != node.size {
                Some(format!("length {len}, recorded {}", node.size))
            } else {
                [
                    ("SHA1", &node.checksums.sha1, &got.sha1),
                    ("MD5", &node.checksums.md5, &got.md5),
                    ("ADLER32", &node.checksums.adler32, &got.adler32),
                ]
                .into_iter()
                .find(|(_, want, have)| want.is_some() && want != have)
                .map(|(alg, want, have)| {
                    format!(
                        "{alg} {} recorded {}",
                        have.as_deref().unwrap_or("-"),
                        want.as_deref().unwrap_or("-")
                    )
                })
            };
            if let Some(reason) = reason {
                report.problems.push(FsckProblem { node, reason });
            }
        }
        Ok(report)
    }
}
