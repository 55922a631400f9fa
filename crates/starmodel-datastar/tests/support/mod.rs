//! Harness shared by the HTTP tests: a server that speaks the upstream SDK test protocol
//! (`server`), a plain HTTP/1.1 client (`client`) and the README's comparison rules
//! (`compare`).

pub(crate) mod client;
pub(crate) mod compare;
pub(crate) mod server;
