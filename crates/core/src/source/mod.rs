//! The edges: each event source's own format, normalised into `RoomEvent`.

pub mod livekit_webhook;
pub mod twilio_callback;
