//! Twilio-style SIDs: two upper-case letters and 32 hex digits (docs/behaviour.md §3), one type per kind.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of thing a SID names; fixes its two-letter prefix.
pub trait SidKind: Send + Sync + 'static {
    const PREFIX: &'static str;
    const NAME: &'static str;
}

macro_rules! sid_kinds {
    ($($kind:ident => $prefix:literal, $name:literal, $alias:ident;)*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $kind;
        impl SidKind for $kind {
            const PREFIX: &'static str = $prefix;
            const NAME: &'static str = $name;
        }
        pub type $alias = Sid<$kind>;
    )*};
}

sid_kinds! {
    Account => "AC", "account SID", AccountSid;
    ApiKey => "SK", "API key SID", ApiKeySid;
    Room => "RM", "room SID", RoomSid;
    Participant => "PA", "participant SID", ParticipantSid;
    Track => "MT", "track SID", TrackSid;
    Recording => "RT", "recording SID", RecordingSid;
}

/// A validated SID of kind `K`. The hex digits keep the case they were given in.
pub struct Sid<K> {
    text: String,
    kind: PhantomData<K>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {name} (expected {prefix} followed by 32 hex digits)")]
pub struct SidError {
    pub value: String,
    pub name: &'static str,
    pub prefix: &'static str,
}

impl<K: SidKind> Sid<K> {
    /// A fresh random SID with lower-case hex digits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self::from_valid(format!("{}{}", K::PREFIX, hex::encode(bytes)))
    }

    /// A deterministic SID derived from `seed` (demo data, tests).
    pub fn from_seed(seed: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(seed);
        Self::from_valid(format!("{}{}", K::PREFIX, hex::encode(&digest[..16])))
    }

    fn from_valid(text: String) -> Self {
        Sid { text, kind: PhantomData }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_valid(value: &str) -> bool {
        value.len() == 34 && value.starts_with(K::PREFIX) && value.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit)
    }
}

impl<K: SidKind> FromStr for Sid<K> {
    type Err = SidError;
    fn from_str(value: &str) -> Result<Self, SidError> {
        if Self::is_valid(value) {
            Ok(Self::from_valid(value.to_owned()))
        } else {
            Err(SidError { value: value.chars().take(64).collect(), name: K::NAME, prefix: K::PREFIX })
        }
    }
}

impl<K: SidKind> TryFrom<String> for Sid<K> {
    type Error = SidError;
    fn try_from(value: String) -> Result<Self, SidError> {
        if Self::is_valid(&value) {
            Ok(Self::from_valid(value))
        } else {
            value.parse()
        }
    }
}

impl<K> Clone for Sid<K> {
    fn clone(&self) -> Self {
        Sid { text: self.text.clone(), kind: PhantomData }
    }
}
impl<K> PartialEq for Sid<K> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl<K> Eq for Sid<K> {}
impl<K> PartialOrd for Sid<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Sid<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}
impl<K> std::hash::Hash for Sid<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}
impl<K> fmt::Display for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl<K> fmt::Debug for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl<K> AsRef<str> for Sid<K> {
    fn as_ref(&self) -> &str {
        &self.text
    }
}
impl<K> Serialize for Sid<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}
impl<'de, K: SidKind> Deserialize<'de> for Sid<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sid::try_from(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_sid_parses_back_and_has_its_prefix() {
        let sid = RoomSid::generate();
        assert!(sid.as_str().starts_with("RM"));
        assert_eq!(sid.as_str().parse::<RoomSid>().unwrap(), sid);
    }

    #[test]
    fn sids_of_the_wrong_kind_length_or_alphabet_are_rejected() {
        for bad in [
            "PA0123456789abcdef0123456789abcdef",
            "RM0123456789abcdef0123456789abcde",
            "RM0123456789abcdef0123456789abcdeg",
            "rm0123456789abcdef0123456789abcdef",
            "",
        ] {
            assert!(bad.parse::<RoomSid>().is_err(), "{bad:?} should be rejected");
        }
        assert!("RM0123456789ABCDEF0123456789abcdef".parse::<RoomSid>().is_ok());
    }
}
