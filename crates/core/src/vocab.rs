//! The API's vocabulary enums, spelled exactly as Twilio's schema (docs/behaviour.md §1), with the
//! alternative spellings the sources send (hyphenated Video-API names, `OPUS`) accepted on input.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {name}; expected one of: {expected}")]
pub struct VocabError {
    pub value: String,
    pub name: &'static str,
    pub expected: &'static str,
}

/// Declares a closed vocabulary: the canonical spelling first, then accepted aliases.
/// Matching of aliases is ASCII case-insensitive.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $label:literal { $($variant:ident = $canon:literal $(| $alias:literal)*,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $canon,)* }
            }
        }
        impl FromStr for $name {
            type Err = VocabError;
            fn from_str(value: &str) -> Result<Self, VocabError> {
                $(
                    if value.eq_ignore_ascii_case($canon) $(|| value.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )*
                Err(VocabError {
                    value: value.chars().take(64).collect(),
                    name: $label,
                    expected: concat!($($canon, " ",)*).trim_ascii_end(),
                })
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary!(RoomType, "room type" {
    Go = "go",
    PeerToPeer = "peer_to_peer" | "peer-to-peer",
    Group = "group",
    GroupSmall = "group_small" | "group-small",
});

vocabulary!(
    /// Codecs in enum order, which is also the order of every `codecs` list (docs/behaviour.md §5).
    Codec, "codec" {
        Vp8 = "VP8",
        H264 = "H264",
        Vp9 = "VP9",
        Opus = "opus",
    }
);

vocabulary!(RoomStatus, "room status" {
    InProgress = "in_progress" | "in-progress",
    Completed = "completed",
});

vocabulary!(ParticipantStatus, "participant status" {
    InProgress = "in_progress" | "in-progress" | "connected",
    Completed = "completed" | "disconnected",
});

vocabulary!(CreatedMethod, "created method" {
    Sdk = "sdk",
    AdHoc = "ad_hoc" | "ad-hoc",
    Api = "api",
});

vocabulary!(RoomEndReason, "room end reason" {
    RoomEndedViaApi = "room_ended_via_api" | "room-ended-via-api",
    Timeout = "timeout",
});

vocabulary!(ProcessingState, "processing state" {
    Complete = "complete",
    InProgress = "in_progress" | "in-progress",
    Timeout = "timeout",
    NotStarted = "not_started" | "not-started",
});

vocabulary!(MediaRegion, "media region" {
    Us1 = "us1", Us2 = "us2", Au1 = "au1", Br1 = "br1", Ie1 = "ie1",
    Jp1 = "jp1", Sg1 = "sg1", In1 = "in1", De1 = "de1", Gll = "gll",
});

vocabulary!(EdgeLocation, "edge location" {
    Ashburn = "ashburn", Dublin = "dublin", Frankfurt = "frankfurt", Singapore = "singapore",
    Sydney = "sydney", SaoPaulo = "sao_paulo" | "sao-paulo", Roaming = "roaming",
    Umatilla = "umatilla", Tokyo = "tokyo",
});

vocabulary!(TrackKind, "track kind" {
    Audio = "audio",
    Video = "video",
    Data = "data",
});

vocabulary!(HttpMethod, "status callback method" {
    Get = "GET",
    Post = "POST",
});

vocabulary!(
    /// Every status-callback event Twilio Video sends (docs/behaviour.md §4.1), plus events that
    /// are stored but change no summary: composition events, LiveKit's aborted connections, and
    /// `other` for what a source reports that the summaries have no place for (docs/behaviour.md §4.4).
    EventKind, "event" {
        RoomCreated = "room-created" | "room_created",
        RoomEnded = "room-ended" | "room_ended",
        ParticipantConnected = "participant-connected" | "participant_connected",
        ParticipantDisconnected = "participant-disconnected" | "participant_disconnected",
        TrackAdded = "track-added" | "track_added",
        TrackRemoved = "track-removed" | "track_removed",
        TrackEnabled = "track-enabled" | "track_enabled",
        TrackDisabled = "track-disabled" | "track_disabled",
        RecordingStarted = "recording-started" | "recording_started",
        RecordingCompleted = "recording-completed" | "recording_completed",
        RecordingFailed = "recording-failed" | "recording_failed",
        CompositionEnqueued = "composition-enqueued" | "composition_enqueued",
        CompositionHookFailed = "composition-hook-failed" | "composition_hook_failed",
        CompositionStarted = "composition-started" | "composition_started",
        CompositionAvailable = "composition-available" | "composition_available",
        CompositionProgress = "composition-progress" | "composition_progress",
        CompositionFailed = "composition-failed" | "composition_failed",
        ParticipantConnectionAborted = "participant-connection-aborted" | "participant_connection_aborted",
        Other = "other",
    }
);

impl EventKind {
    pub fn is_participant_event(self) -> bool {
        matches!(
            self,
            EventKind::ParticipantConnected
                | EventKind::ParticipantDisconnected
                | EventKind::TrackAdded
                | EventKind::TrackRemoved
                | EventKind::TrackEnabled
                | EventKind::TrackDisabled
        )
    }

    /// Whether the fold reads this event at all; the others are kept only as raw records.
    pub fn changes_summaries(self) -> bool {
        !(self.as_str().starts_with("composition-")
            || matches!(self, EventKind::ParticipantConnectionAborted | EventKind::Other))
    }

    /// Tie-break among events at the same instant: disconnects (and room ends) before connects
    /// (docs/behaviour.md §5), so a participant leaving and another joining in the same millisecond never
    /// count as concurrent.
    pub fn same_instant_rank(self) -> u8 {
        match self {
            EventKind::ParticipantDisconnected => 0,
            EventKind::RoomEnded => 1,
            EventKind::RoomCreated => 2,
            _ => 3,
        }
    }
}

impl Codec {
    /// The bit of this codec in a codec set; sets are stored as masks.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Reads a source's codec name: the enum's codecs in any case, `None` for audio codecs the
    /// schema has no value for (`PCMU`, `PCMA`, `G722`), kept only in the raw event (docs/behaviour.md §5).
    pub fn from_source(value: &str) -> Result<Option<Codec>, VocabError> {
        match value.parse() {
            Ok(codec) => Ok(Some(codec)),
            Err(_) if ["PCMU", "PCMA", "G722"].iter().any(|c| value.eq_ignore_ascii_case(c)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// A set of codecs, iterated in enum order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodecSet(pub u8);

impl CodecSet {
    pub fn insert(&mut self, codec: Codec) {
        self.0 |= codec.bit();
    }
    pub fn union(self, other: CodecSet) -> CodecSet {
        CodecSet(self.0 | other.0)
    }
    pub fn contains(self, codec: Codec) -> bool {
        self.0 & codec.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Codec> {
        Codec::ALL.iter().copied().filter(move |c| self.contains(*c))
    }
    pub fn to_vec(self) -> Vec<Codec> {
        self.iter().collect()
    }
}

impl FromIterator<Codec> for CodecSet {
    fn from_iter<I: IntoIterator<Item = Codec>>(iter: I) -> Self {
        let mut set = CodecSet::default();
        iter.into_iter().for_each(|c| set.insert(c));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_and_upper_case_spellings_map_to_the_schema_spelling() {
        assert_eq!("peer-to-peer".parse::<RoomType>().unwrap().as_str(), "peer_to_peer");
        assert_eq!("group-small".parse::<RoomType>().unwrap().as_str(), "group_small");
        assert_eq!("OPUS".parse::<Codec>().unwrap().as_str(), "opus");
        assert_eq!("in-progress".parse::<RoomStatus>().unwrap().as_str(), "in_progress");
    }

    #[test]
    fn unknown_values_are_errors_that_list_the_vocabulary() {
        let error = "huge".parse::<RoomType>().unwrap_err();
        assert_eq!(error.expected, "go peer_to_peer group group_small");
        assert!("AV1".parse::<Codec>().is_err());
    }

    #[test]
    fn pcmu_is_a_known_source_codec_without_an_api_value() {
        assert_eq!(Codec::from_source("PCMU").unwrap(), None);
        assert_eq!(Codec::from_source("OPUS").unwrap(), Some(Codec::Opus));
        assert!(Codec::from_source("AV1").is_err());
    }

    #[test]
    fn codec_sets_iterate_in_enum_order() {
        let set: CodecSet = [Codec::Opus, Codec::Vp8, Codec::Vp9].into_iter().collect();
        assert_eq!(set.to_vec(), vec![Codec::Vp8, Codec::Vp9, Codec::Opus]);
    }
}
