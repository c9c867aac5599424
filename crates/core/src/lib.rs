//! roomlog's domain, without I/O: SIDs, the vocabulary, `RoomEvent`, the fold into summaries,
//! list filters and page tokens, and the store interface backends implement.
#![forbid(unsafe_code)]

pub mod account;
#[cfg(feature = "testing")]
pub mod contract;
pub mod event;
pub mod fold;
pub mod outbox;
pub mod page;
pub mod query;
pub mod sid;
pub mod signature;
pub mod source;
pub mod store;
pub mod summary;
pub mod time;
pub mod usage;
pub mod vocab;

pub use account::{Account, ApiKey};
pub use event::{AccountEvent, EventError, Relay, RoomEvent};
pub use fold::{fold, FoldSettings, Folded, RoomState};
pub use page::{Cursor, Direction, Page, PageRequest, Row, TokenKey, TokenState};
pub use query::{IdentityFilter, Paging, ParamError, RoomFilter};
pub use sid::{AccountSid, ApiKeySid, ParticipantSid, RoomSid};
pub use store::{AppendOutcome, Checkpoint, ImportOutcome, ImportedRoom, JobRun, RebuildReport, Store, StoreError};
pub use summary::{ParticipantSummary, RoomSummary, StoredJson};
pub use time::Millis;
pub use vocab::{Codec, CodecSet, EventKind, RoomType};
