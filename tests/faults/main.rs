//! Faults (issue 15): a write that fails deep in the storage core, a full or read-only disk,
//! and a kill at the moment an upload completes. Whatever breaks, the client gets a clear
//! status, nothing half-written becomes visible, and the server recovers without a restart.
//!
//! `disk_full` needs root (it mounts a tmpfs) and is `#[ignore]`d; `.ci/run` runs it.

#[path = "../binary/mod.rs"]
mod binary;
#[path = "../common/mod.rs"]
mod common;
#[path = "../tus/support.rs"]
mod support;

mod answered;
mod connections;
mod disk_full;
mod final_patch;
mod final_patch_burst;
