//! spacedav: an ownCloud Infinite Scale compatible file server in one binary.
//!
//! Data flows one way: HTTP adapters (`http`, `dav`, `tus`, `ocs`, `graph`) call protocol
//! services, which call the storage core in `spaces` (metadata in SQL, bytes in a blob store).

pub mod config;
