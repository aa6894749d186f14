//! tus uploads over HTTP (issue 4, SPEC §3–§4): creation on space folders, the `/data/{token}`
//! resource, the oCIS acceptance scenarios, crash safety and large uploads.

#[path = "../binary/mod.rs"]
mod binary;
#[path = "../common/mod.rs"]
mod common;

mod acceptance;
mod big;
mod completion;
mod concurrency;
mod crash;
mod creation;
mod inline;
mod public_crash;
mod resource;
mod support;
mod whole;
mod writes;
