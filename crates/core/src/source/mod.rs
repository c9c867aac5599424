//! The edges: each event source's own format, normalised into `RoomEvent`.

pub mod twilio_callback;
