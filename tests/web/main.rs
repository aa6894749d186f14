//! The client-facing surface before any upload: OCS, status, Graph drives, authentication and
//! the HTTP plumbing (request id, CORS, 5xx hygiene), over HTTP against a real server.

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod graph;
mod graph_people;
mod graph_spaces;
mod graph_support;
mod ocs;
mod ops;
mod plumbing;
mod settings;
mod slow;
mod webui;
