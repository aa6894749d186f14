//! The S3 backend's record of an upload's staged bytes, kept (as JSON) in the upload row's
//! `staging` column: the multipart upload, its committed parts with their etags, the tail
//! object holding the bytes after the last full part, and whether it was sealed. It is the
//! authoritative part list: the backend never asks S3 which parts exist (`ListParts` can lag,
//! and it would count parts of requests that lost their compare-and-set).

use serde::{Deserialize, Serialize};

use crate::spaces::blob::{StagingPlan, StagingState};

/// S3's smallest part besides the last one.
pub(super) const MIN_PART: u64 = 5 << 20;
/// S3's largest part number.
pub(super) const MAX_PART_NUMBER: u32 = 10_000;
/// Part numbers a complete upload may use, so that at least 1,000 remain for requests that
/// fail or lose a race after uploading their part (each takes a fresh number).
const PLANNED_PARTS: u64 = 9_000;

/// The one part size of an upload planned as `plan`: at least 5 MiB and large enough for
/// the (declared or largest allowed) length to fit in [`PLANNED_PARTS`], in whole MiB.
pub(super) fn part_size(plan: StagingPlan) -> u64 {
    let len = plan.length.unwrap_or(plan.max_length);
    let need = len.div_ceil(PLANNED_PARTS).div_ceil(1 << 20) << 20;
    need.max(MIN_PART)
}

/// One committed part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Part {
    /// Its part number (from the row's counter: increasing, with gaps).
    pub n: u32,
    /// The etag S3 answered, as `CompleteMultipartUpload` wants it back.
    pub etag: String,
}

/// The staged bytes of one upload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct Record {
    /// Every part but the last has exactly this size (R2 and AWS insist, Garage does not).
    pub part_size: u64,
    /// The multipart upload id, once the first full part was uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    /// Committed parts, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// Object holding the bytes after the last part (fewer than a part), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<String>,
    /// Length of the tail object.
    #[serde(default)]
    pub tail_len: u64,
    /// Whether the bytes are the object under the upload's key now.
    #[serde(default)]
    pub sealed: bool,
}

impl Record {
    /// A fresh record for an upload planned as `plan`.
    pub fn planned(plan: StagingPlan) -> Record {
        Record {
            part_size: part_size(plan),
            ..Record::default()
        }
    }

    /// Read a stored state. The empty state is a plain object (a concatenation's blob).
    pub fn parse(state: &StagingState) -> std::io::Result<Record> {
        if state.as_str().is_empty() {
            return Ok(Record {
                sealed: true,
                ..Record::default()
            });
        }
        serde_json::from_str(state.as_str())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// The state to store.
    pub fn state(&self) -> StagingState {
        StagingState::new(serde_json::to_string(self).expect("a record serialises"))
    }

    /// Bytes the record holds before the seal.
    pub fn len(&self) -> u64 {
        self.parts.len() as u64 * self.part_size + self.tail_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn plan(length: Option<u64>) -> StagingPlan {
        StagingPlan {
            length,
            max_length: 1 << 40,
        }
    }

    #[test]
    fn part_size_is_at_least_five_mib_and_fits_the_length_in_nine_thousand_parts() {
        assert_eq!(part_size(plan(Some(0))), 5 * MIB);
        assert_eq!(part_size(plan(Some(40 * 1024 * MIB))), 5 * MIB);
        let big = 100 << 30;
        let p = part_size(plan(Some(big)));
        assert_eq!(p % MIB, 0);
        assert!(big.div_ceil(p) <= PLANNED_PARTS, "{p}");
        // A deferred length plans for the largest upload allowed (1 TiB: 117 MiB parts).
        assert_eq!(part_size(plan(None)), 117 * MIB);
    }

    #[test]
    fn a_record_survives_its_stored_form_and_the_empty_state_is_a_sealed_object() {
        let mut r = Record::planned(plan(Some(12 * MIB)));
        r.upload = Some("u1".into());
        r.parts.push(Part {
            n: 3,
            etag: "\"e\"".into(),
        });
        r.tail = Some("k.tail.x".into());
        r.tail_len = 7;
        assert_eq!(Record::parse(&r.state()).unwrap(), r);
        assert_eq!(r.len(), 5 * MIB + 7);
        assert!(Record::parse(&StagingState::default()).unwrap().sealed);
        assert!(Record::parse(&StagingState::new("{")).is_err());
    }
}
