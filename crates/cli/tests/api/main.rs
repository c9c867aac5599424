//! The API as clients see it: every test drives a real server over HTTP (docs/behaviour.md).

mod auth;
mod binary;
mod cache;
mod callbacks;
mod cli_client;
mod dashboard;
mod database;
mod demo_export;
mod durability;
mod errors;
mod events;
mod fixtures;
mod health;
mod helpers;
mod import;
mod inspect;
mod livekit;
mod multinode;
mod outage;
mod paging;
mod participants;
mod process;
mod rooms;
mod scheduled_import;
mod summaries;
mod urls;
