//! roomlog's client side: a client of any Twilio-compatible Insights API, the importer that
//! copies such an API into a store, and the exporter that streams a store out. Nothing here
//! serves HTTP; the `roomlog` binary wires these to its commands.
#![forbid(unsafe_code)]

pub mod delivery;
pub mod export;
pub mod fields;
pub mod import;
pub mod insights;
pub mod output;
mod table;

pub use insights::{ClientError, Credentials, InsightsClient, ListPage, RetryPolicy};
