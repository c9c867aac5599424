//! One module per job of the `roomlog` binary. `admin` and `demo` use a database directly;
//! `read` is a client of a running Insights API; `import` and `export` wire the client library
//! to a local store.

pub mod admin;
pub mod demo;
pub mod export;
pub mod import;
pub mod read;
