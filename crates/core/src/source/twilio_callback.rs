//! Twilio Programmable Video status callbacks (docs/behaviour.md §4.1): form parameters in PascalCase
//! with the Video API's spellings, mapped into the one `RoomEvent`.

use serde_json::{Map, Value};

use crate::event::{EventError, RoomEvent};
use crate::sid::AccountSid;
use crate::time::Millis;
use crate::vocab::Codec;

/// A callback's parameters, as sent (query for GET, body for POST), before anything is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackParams(pub Vec<(String, String)>);

/// Callback parameter → `RoomEvent` field. Parameters not listed stay in the raw record only.
const FIELDS: &[(&str, &str)] = &[
    ("StatusCallbackEvent", "event"),
    ("RoomSid", "room_sid"),
    ("RoomName", "room_name"),
    ("RoomType", "room_type"),
    ("RoomStatus", "room_status"),
    ("RoomDuration", "room_duration"),
    ("SequenceNumber", "sequence_number"),
    ("ParticipantSid", "participant_sid"),
    ("ParticipantIdentity", "participant_identity"),
    ("ParticipantStatus", "participant_status"),
    ("ParticipantDuration", "participant_duration"),
    ("TrackSid", "track_sid"),
    ("TrackKind", "track_kind"),
    ("TrackName", "track_name"),
    ("RecordingSid", "recording_sid"),
    ("SourceSid", "source_sid"),
    ("Duration", "duration"),
];

impl CallbackParams {
    /// Decodes an `application/x-www-form-urlencoded` body or query string; never fails.
    pub fn from_form(bytes: &[u8]) -> CallbackParams {
        CallbackParams(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The last value of a parameter, if it has a non-empty one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn account_sid(&self) -> Option<AccountSid> {
        self.get("AccountSid")?.parse().ok()
    }

    /// The parameters as a JSON object (repeated names become arrays): the raw record.
    pub fn raw(&self) -> Value {
        let mut object = Map::new();
        for (key, value) in &self.0 {
            match object.get_mut(key) {
                Some(Value::Array(values)) => values.push(Value::String(value.clone())),
                Some(existing) => *existing = Value::Array(vec![existing.take(), Value::String(value.clone())]),
                None => {
                    object.insert(key.clone(), Value::String(value.clone()));
                }
            }
        }
        Value::Object(object)
    }

    /// Maps the parameters into a `RoomEvent`. `received` stands in for a missing `Timestamp`
    /// on composition events, which carry none in some Twilio versions and change no summary.
    pub fn to_event(&self, received: Millis) -> Result<RoomEvent, EventError> {
        let mut fields = Map::new();
        for (param, field) in FIELDS {
            if let Some(value) = self.get(param) {
                fields.insert((*field).to_owned(), Value::String(value.to_owned()));
            }
        }
        let kind =
            self.get("StatusCallbackEvent").ok_or_else(|| EventError("StatusCallbackEvent is required".into()))?;
        let timestamp = match self.get("Timestamp") {
            Some(text) => parse_timestamp(text)?,
            None if kind.starts_with("composition-") => received,
            None => return Err(EventError("Timestamp is required".into())),
        };
        fields.insert("timestamp".into(), Value::String(timestamp.to_rfc3339_millis()));
        // Codecs the API has no value for (PCMU) or does not know yet stay in the raw record:
        // a callback is never refused for a codec.
        if let Some(codec) = self.get("Codec").and_then(|c| Codec::from_source(c).ok().flatten()) {
            fields.insert("codec".into(), Value::String(codec.as_str().to_owned()));
        }
        let event: RoomEvent = serde_json::from_value(Value::Object(fields))
            .map_err(|e| EventError(camel_case_message(&e.to_string())))?;
        event.validate().map_err(|e| EventError(camel_case_message(&e.0)))?;
        Ok(event)
    }
}

/// Twilio sends ISO 8601 with milliseconds; RFC 2822 is accepted too, as some Twilio products use it.
fn parse_timestamp(text: &str) -> Result<Millis, EventError> {
    Millis::parse_lenient(text)
        .or_else(|_| chrono::DateTime::parse_from_rfc2822(text).map(|t| Millis(t.timestamp_millis())).map_err(|_| ()))
        .map_err(|_| {
            EventError(format!("Timestamp {:?} is not a date-time", text.chars().take(64).collect::<String>()))
        })
}

/// Errors name the event's snake_case fields; a callback sender knows the PascalCase names.
fn camel_case_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let param = FIELDS.iter().find(|(_, field)| field == word).map_or(word.as_str(), |(param, _)| param);
        out.push_str(param);
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_lowercase() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{EventKind, RoomType};
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> CallbackParams {
        CallbackParams(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    const COMMON: [(&str, &str); 7] = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("RoomSid", "RM0123456789abcdef0123456789abcdef"),
        ("RoomName", "standup"),
        ("RoomType", "group-small"),
        ("RoomStatus", "in-progress"),
        ("Timestamp", "2025-10-27T18:16:01.876Z"),
        ("SequenceNumber", "3"),
    ];

    #[test]
    fn a_recording_callback_maps_opus_and_its_duration() {
        let mut pairs = COMMON.to_vec();
        pairs.extend([
            ("StatusCallbackEvent", "recording-completed"),
            ("RecordingSid", "RT0123456789abcdef0123456789abcdef"),
            ("SourceSid", "MT0123456789abcdef0123456789abcdef"),
            ("Codec", "OPUS"),
            ("Container", "mka"),
            ("Duration", "42"),
            ("Size", "12345"),
            ("SomethingNew", "ignored"),
        ]);
        let event = params(&pairs).to_event(Millis(0)).unwrap();
        assert_eq!(event.event, EventKind::RecordingCompleted);
        assert_eq!(event.room_type, Some(RoomType::GroupSmall));
        assert_eq!(event.codec, Some(Codec::Opus));
        assert_eq!(event.duration, Some(42));
        assert_eq!(event.timestamp.to_rfc3339_millis(), "2025-10-27T18:16:01.876Z");
    }

    #[test]
    fn pcmu_is_kept_only_in_the_raw_record() {
        let mut pairs = COMMON.to_vec();
        pairs.extend([("StatusCallbackEvent", "recording-started"), ("RecordingSid", "RT1"), ("Codec", "PCMU")]);
        let params = params(&pairs);
        assert_eq!(params.to_event(Millis(0)).unwrap().codec, None);
        assert_eq!(params.raw()["Codec"], "PCMU");
    }

    #[test]
    fn missing_or_bad_parameters_are_named_in_pascal_case() {
        let no_event = params(&COMMON);
        assert!(no_event.to_event(Millis(0)).unwrap_err().0.contains("StatusCallbackEvent"));
        let mut pairs = COMMON.to_vec();
        pairs.push(("StatusCallbackEvent", "participant-connected"));
        assert!(
            params(&pairs).to_event(Millis(0)).unwrap_err().0.contains("ParticipantSid"),
            "participant events need a ParticipantSid"
        );
    }

    #[test]
    fn composition_events_without_a_timestamp_use_the_receive_time() {
        let p = params(&[
            ("RoomSid", "RM0123456789abcdef0123456789abcdef"),
            ("StatusCallbackEvent", "composition-available"),
        ]);
        assert_eq!(p.to_event(Millis(5_000)).unwrap().timestamp, Millis(5_000));
    }

    proptest! {
        #[test]
        fn the_form_parser_and_mapping_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let params = CallbackParams::from_form(&bytes);
            let _ = params.raw();
            let _ = params.account_sid();
            let _ = params.to_event(Millis(0));
        }

        #[test]
        fn mapping_never_panics_on_arbitrary_values_of_known_parameters(values in prop::collection::vec(".{0,40}", 26)) {
            let names = ["AccountSid", "RoomSid", "RoomName", "RoomType", "RoomStatus", "StatusCallbackEvent", "Timestamp",
                         "SequenceNumber", "ParticipantSid", "ParticipantIdentity", "ParticipantStatus", "ParticipantDuration",
                         "RoomDuration", "TrackSid", "TrackKind", "TrackName", "RecordingSid", "SourceSid", "Codec",
                         "Container", "Type", "Duration", "Size", "MediaUri", "RecordingUri", "OffsetFromTwilioVideoEpoch"];
            let params = CallbackParams(names.iter().zip(values).map(|(n, v)| ((*n).to_owned(), v)).collect());
            let _ = params.to_event(Millis(0));
        }
    }
}
