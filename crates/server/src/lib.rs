//! roomlog's server: the Insights API, the event sources, the dashboard and the lifecycle task
//! over one store. Modules import downwards only: `app` → `router` → `dashboard` → `http` →
//! `state` → the caches and `config`; `database` chooses the backend (docs/design.md, "Layout").
#![forbid(unsafe_code)]

pub mod app;
pub mod config;
pub mod credential_cache;
pub mod dashboard;
pub mod database;
pub mod http;
pub mod lifecycle;
pub mod response_cache;
pub mod router;
pub mod state;
pub mod telemetry;

pub use app::Application;
pub use config::{DatabaseConfig, ServerConfig};
pub use state::AppState;
