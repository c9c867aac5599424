//! The two summaries the Insights API serves, field for field as Twilio's schema orders them.
//! `url` and `links` are not stored: they depend on the public base URL of each request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sid::{AccountSid, ParticipantSid, RoomSid};
use crate::time::{api_seconds, Millis};
use crate::vocab::{
    Codec, CreatedMethod, EdgeLocation, HttpMethod, MediaRegion, ParticipantStatus, ProcessingState, RoomEndReason,
    RoomStatus, RoomType,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub account_sid: AccountSid,
    pub room_sid: RoomSid,
    pub room_name: Option<String>,
    #[serde(with = "api_seconds")]
    pub create_time: Option<Millis>,
    #[serde(with = "api_seconds")]
    pub end_time: Option<Millis>,
    pub room_type: Option<RoomType>,
    pub room_status: Option<RoomStatus>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<HttpMethod>,
    pub created_method: Option<CreatedMethod>,
    pub end_reason: Option<RoomEndReason>,
    pub max_participants: Option<i64>,
    pub unique_participants: i64,
    pub unique_participant_identities: i64,
    pub concurrent_participants: i64,
    pub max_concurrent_participants: Option<i64>,
    pub codecs: Vec<Codec>,
    pub media_region: Option<MediaRegion>,
    pub duration_sec: Option<i64>,
    pub total_participant_duration_sec: i64,
    pub total_recording_duration_sec: i64,
    pub processing_state: ProcessingState,
    pub recording_enabled: bool,
    pub edge_location: Option<EdgeLocation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantSummary {
    pub participant_sid: ParticipantSid,
    pub participant_identity: Option<String>,
    #[serde(with = "api_seconds")]
    pub join_time: Option<Millis>,
    #[serde(with = "api_seconds")]
    pub leave_time: Option<Millis>,
    pub duration_sec: Option<i64>,
    pub account_sid: AccountSid,
    pub room_sid: RoomSid,
    pub status: ParticipantStatus,
    pub codecs: Vec<Codec>,
    pub end_reason: Option<String>,
    pub error_code: Option<i64>,
    pub error_code_url: Option<String>,
    pub media_region: Option<MediaRegion>,
    pub properties: Option<Value>,
    pub edge_location: Option<EdgeLocation>,
    pub publisher_info: Option<Value>,
}

/// A summary serialised once, when it changes, and served as bytes: the `url` (and `links`)
/// are spliced in per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJson(pub String);

impl StoredJson {
    pub fn of<T: Serialize>(value: &T) -> StoredJson {
        StoredJson(serde_json::to_string(value).expect("summaries always serialise"))
    }

    /// Appends `"url": …` (and `"links": …` when given) to the stored object, writing into `out`.
    pub fn render_into(&self, out: &mut String, url: &str, links: Option<(&str, &str)>) {
        let body = self.0.trim_end();
        let open = body.strip_suffix('}').unwrap_or(body);
        out.push_str(open);
        out.push_str(",\"url\":");
        push_json_string(out, url);
        if let Some((key, link)) = links {
            out.push_str(",\"links\":{");
            push_json_string(out, key);
            out.push(':');
            push_json_string(out, link);
            out.push('}');
        }
        out.push('}');
    }
}

/// A room as `GET /v1/Video/Rooms/{sid}` serves it under `base` (the public URL): its summary
/// with its `url` and `links.participants`.
pub fn render_room(out: &mut String, base: &str, room_sid: &str, json: &StoredJson) {
    let url = format!("{base}/v1/Video/Rooms/{room_sid}");
    let participants = format!("{url}/Participants");
    json.render_into(out, &url, Some(("participants", &participants)));
}

/// A participant as its resource serves it under `base`.
pub fn render_participant(out: &mut String, base: &str, room_sid: &str, participant_sid: &str, json: &StoredJson) {
    json.render_into(out, &format!("{base}/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}"), None);
}

/// `text` as a JSON string. URLs and SIDs need no escaping: they are copied as they are, and
/// only text that needs escaping goes through serde_json.
pub fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(text).expect("strings always serialise"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pushed_strings_are_what_serde_json_writes() {
        for text in
            ["https://video.example/v1/Video/Rooms/RM1", "", "a\"b", "back\\slash", "tab\there", "ünï😀", "\u{1}"]
        {
            let mut out = String::new();
            super::push_json_string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap());
        }
    }
}
