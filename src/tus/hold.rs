//! Holding an upload for one request (PATCH, DELETE, a sweep): its in-process slot, with the
//! cached whole-file hasher, and its hold across nodes ([`Store::hold_upload`]), which on
//! PostgreSQL excludes the requests of every other node on the database: a second PATCH on
//! another node answers 423 at once, before its body is read (issue 14).

use std::sync::Arc;

use uuid::Uuid;

use super::error::TusError;
use super::service::{HashState, Slot, TusService};
use crate::spaces::Hold;
#[cfg(doc)]
use crate::spaces::Store;

/// How many upload slots (with their cached hashers) a process keeps before it forgets those
/// no request holds.
const MAX_IDLE_SLOTS: usize = 4096;

/// An upload held by one request: its in-process slot (with the hasher state) and its hold
/// across nodes. Give it back with [`Held::release`]; a dropped one frees both too, the
/// cross-node hold a moment later.
pub(crate) struct Held {
    state: tokio::sync::OwnedMutexGuard<HashState>,
    hold: Hold,
}

impl Held {
    /// Free the upload for the next request, on this node and on every other.
    pub(crate) async fn release(self) {
        // The cross-node hold first: once the slot is free, a request on this node must find
        // the upload free everywhere.
        self.hold.release().await;
        drop(self.state);
    }
}

impl std::ops::Deref for Held {
    type Target = HashState;
    fn deref(&self) -> &HashState {
        &self.state
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut HashState {
        &mut self.state
    }
}

impl TusService {
    pub(crate) fn upload_lock(&self, id: Uuid) -> Slot {
        let mut slots = self.0.slots.lock().expect("slot map poisoned");
        if slots.len() >= MAX_IDLE_SLOTS && !slots.contains_key(&id) {
            // With several nodes, an upload often finishes on another node than the one that
            // cached its hasher, and nothing here hears of it. Forget every slot no request
            // holds: a hasher that was still wanted is rebuilt from the stored bytes.
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        slots.entry(id).or_default().clone()
    }

    /// Hold upload `id` for one request, on this node and across nodes: `Busy` (423) at once
    /// when another request holds it, unless `wait`.
    pub(crate) async fn hold(&self, id: Uuid, wait: bool) -> Result<Held, TusError> {
        let slot = self.upload_lock(id);
        let state = if wait {
            slot.lock_owned().await
        } else {
            slot.try_lock_owned().map_err(|_| TusError::Busy)?
        };
        match self.0.store.hold_upload(id, wait).await? {
            Some(hold) => Ok(Held { state, hold }),
            None => Err(TusError::Busy),
        }
    }

    pub(crate) fn drop_hash_state(&self, id: Uuid) {
        self.0.slots.lock().expect("slot map poisoned").remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::spaces::Store;

    /// Issue 14: a node keeps no slot forever for uploads that finished elsewhere; a slot a
    /// request holds survives the pruning.
    #[tokio::test]
    async fn idle_slots_are_forgotten_once_there_are_too_many_and_held_ones_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_data_root(dir.path());
        let store = Store::open_local(&config.metadata_url, config.blob_dir(), config.storage_id)
            .await
            .unwrap();
        let svc = TusService::new(store, &config);
        let busy = Uuid::new_v4();
        let slot = svc.upload_lock(busy);
        let _held = slot.try_lock().unwrap();
        for _ in 0..MAX_IDLE_SLOTS {
            svc.upload_lock(Uuid::new_v4());
        }
        let slots = svc.0.slots.lock().unwrap();
        assert_eq!(slots.len(), 2, "the held slot and the newest one");
        assert!(slots.contains_key(&busy));
    }
}
