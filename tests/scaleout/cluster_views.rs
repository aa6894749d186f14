//! Views across nodes.
