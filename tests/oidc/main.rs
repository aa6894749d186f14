//! Sign-in (issue 10): the built-in OpenID Connect provider as a browser and a client see it,
//! the bad input it must refuse, an external issuer (a second spacedav), and app tokens. Every
//! test speaks HTTP to servers started through the shared helper.

#[path = "../binary/mod.rs"]
mod binary;
#[path = "../common/mod.rs"]
mod common;

mod app_tokens;
mod bad_input;
mod external;
mod provider;
mod records;
mod support;
mod tokens;
