//! The list parameters of docs/behaviour.md §2, parsed from query pairs into typed filters and paging.

use crate::time::Millis;
use crate::vocab::{Codec, CodecSet, RoomType};

/// Which rooms a listing wants. Filters combine with AND; values of one filter with OR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomFilter {
    /// In enum order, without repeats; empty means any.
    pub room_types: Vec<RoomType>,
    /// Any of these; empty means any.
    pub codecs: CodecSet,
    pub room_name: Option<String>,
    /// Inclusive.
    pub created_after: Option<Millis>,
    /// Exclusive.
    pub created_before: Option<Millis>,
}

/// `PageSize`, `Page` and `PageToken` as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub page_size: u32,
    pub page: u32,
    pub page_token: Option<String>,
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A parameter the server cannot accept; the message names it (docs/behaviour.md §3, code 20001).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid {param}: {message}")]
pub struct ParamError {
    pub param: &'static str,
    pub message: String,
}

/// `CreatedAfter` and `CreatedBefore` as query pairs, when set (both lists put them last).
fn push_dates(pairs: &mut Vec<(&'static str, String)>, after: Option<Millis>, before: Option<Millis>) {
    pairs.extend(after.map(|a| ("CreatedAfter", a.to_api_string())));
    pairs.extend(before.map(|b| ("CreatedBefore", b.to_api_string())));
}

/// The bounds as the canonical texts of filter sets write them.
fn canonical_dates(after: Option<Millis>, before: Option<Millis>) -> (String, String) {
    let text = |m: Option<Millis>| m.map_or(String::new(), |m| m.0.to_string());
    (text(after), text(before))
}

fn invalid(param: &'static str, message: impl ToString) -> ParamError {
    ParamError { param, message: message.to_string() }
}

impl RoomFilter {
    pub fn has_date(&self) -> bool {
        self.created_after.is_some() || self.created_before.is_some()
    }

    /// The filters as query pairs, in the order docs/behaviour.md §2 gives for `meta` URLs.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        pairs.extend(self.room_types.iter().map(|t| ("RoomType", t.as_str().to_owned())));
        pairs.extend(self.codecs.iter().map(|c| ("Codec", c.as_str().to_owned())));
        if let Some(name) = &self.room_name {
            pairs.push(("RoomName", name.clone()));
        }
        push_dates(&mut pairs, self.created_after, self.created_before);
        pairs
    }

    /// A canonical text of the filter set, to which page tokens are bound.
    pub fn canonical(&self) -> String {
        let (after, before) = canonical_dates(self.created_after, self.created_before);
        let types: Vec<&str> = self.room_types.iter().map(|t| t.as_str()).collect();
        format!(
            "t={};c={};n={};a={after};b={before}",
            types.join(","),
            self.codecs.0,
            self.room_name.as_deref().map_or(String::from("-"), |n| format!("{}:{n}", n.len())),
        )
    }

    /// Whether a room with these attributes passes the filter (used by tests and in-memory paths).
    pub fn matches(
        &self,
        room_type: Option<RoomType>,
        codecs: CodecSet,
        room_name: Option<&str>,
        create_time: Millis,
    ) -> bool {
        (self.room_types.is_empty() || room_type.is_some_and(|t| self.room_types.contains(&t)))
            && (self.codecs.0 == 0 || codecs.0 & self.codecs.0 != 0)
            && self.room_name.as_deref().is_none_or(|n| Some(n) == room_name)
            && self.created_after.is_none_or(|a| create_time >= a)
            && self.created_before.is_none_or(|b| create_time < b)
    }
}

/// Reads the rooms listing's parameters. Unknown parameters are ignored; an empty value counts
/// as absent; a repeated single-valued parameter keeps its last value.
pub fn parse_room_list<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(RoomFilter, Paging), ParamError> {
    let mut filter = RoomFilter::default();
    let mut paging = PagingParser::default();
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        match key {
            "RoomType" => {
                let room_type: RoomType = value.parse().map_err(|e| invalid("RoomType", e))?;
                if !filter.room_types.contains(&room_type) {
                    filter.room_types.push(room_type);
                }
            }
            "Codec" => filter.codecs.insert(value.parse::<Codec>().map_err(|e| invalid("Codec", e))?),
            "RoomName" => filter.room_name = Some(value.to_owned()),
            "CreatedAfter" => {
                filter.created_after = Some(Millis::parse_lenient(value).map_err(|e| invalid("CreatedAfter", e))?)
            }
            "CreatedBefore" => {
                filter.created_before = Some(Millis::parse_lenient(value).map_err(|e| invalid("CreatedBefore", e))?)
            }
            other => paging.read(other, value)?,
        }
    }
    filter.room_types.sort_unstable();
    Ok((filter, paging.finish()))
}

/// Whose sessions an identity search wants (docs/behaviour.md §7.2): one identity, exactly, and
/// optionally a `join_time` range, inclusive after and exclusive before, like the rooms list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFilter {
    pub identity: String,
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
}

impl IdentityFilter {
    /// The filters as query pairs, in the order of docs/behaviour.md §7.2 for `meta` URLs.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("Identity", self.identity.clone())];
        push_dates(&mut pairs, self.created_after, self.created_before);
        pairs
    }

    /// A canonical text of the filter set, to which page tokens are bound.
    pub fn canonical(&self) -> String {
        let (after, before) = canonical_dates(self.created_after, self.created_before);
        format!("i={}:{};a={after};b={before}", self.identity.len(), self.identity)
    }
}

/// Reads an identity search's parameters; a missing or empty `Identity` is refused. Otherwise
/// as `parse_room_list`: unknown parameters ignored, the last of a repeated one kept.
pub fn parse_identity_search<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(IdentityFilter, Paging), ParamError> {
    let mut identity = None;
    let (mut created_after, mut created_before) = (None, None);
    let mut paging = PagingParser::default();
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        match key {
            "Identity" => identity = Some(value.to_owned()),
            "CreatedAfter" => {
                created_after = Some(Millis::parse_lenient(value).map_err(|e| invalid("CreatedAfter", e))?)
            }
            "CreatedBefore" => {
                created_before = Some(Millis::parse_lenient(value).map_err(|e| invalid("CreatedBefore", e))?)
            }
            other => paging.read(other, value)?,
        }
    }
    let identity =
        identity.ok_or_else(|| invalid("Identity", "is required: the participant identity to search for"))?;
    Ok((IdentityFilter { identity, created_after, created_before }, paging.finish()))
}

/// Reads the paging parameters alone (the participants listing has no filters).
pub fn parse_paging<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Paging, ParamError> {
    let mut paging = PagingParser::default();
    for (key, value) in pairs {
        if !value.is_empty() {
            paging.read(key, value)?;
        }
    }
    Ok(paging.finish())
}

#[derive(Default)]
struct PagingParser {
    page_size: Option<u32>,
    page: Option<u32>,
    page_token: Option<String>,
}

impl PagingParser {
    fn read(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        match key {
            "PageSize" => {
                let digits = value.trim().strip_prefix('+').unwrap_or(value.trim());
                let size: i64 = match digits.parse() {
                    Ok(size) => size,
                    // An integer too large for i64 is still an integer above 1000: clamp it.
                    Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => i64::MAX,
                    Err(_) => return Err(invalid("PageSize", format!("{value:?} is not an integer"))),
                };
                if size < 1 {
                    return Err(invalid("PageSize", format!("{size} is below the minimum of 1")));
                }
                // Clients send PageSize=limit unclamped (docs/behaviour.md §2): clamp, do not refuse.
                self.page_size = Some(size.min(i64::from(MAX_PAGE_SIZE)) as u32);
            }
            "Page" => {
                let page: i64 =
                    value.trim().parse().map_err(|_| invalid("Page", format!("{value:?} is not an integer")))?;
                if !(0..=i64::from(u32::MAX)).contains(&page) {
                    return Err(invalid("Page", format!("{page} is out of range")));
                }
                self.page = Some(page as u32);
            }
            "PageToken" => self.page_token = Some(value.to_owned()),
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Paging {
        Paging {
            page_size: self.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
            page: self.page.unwrap_or(0),
            page_token: self.page_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_room_types_and_codecs_accumulate_in_enum_order() {
        let (filter, _) =
            parse_room_list([("RoomType", "group"), ("RoomType", "go"), ("Codec", "OPUS"), ("Codec", "VP8")]).unwrap();
        assert_eq!(filter.room_types, vec![RoomType::Go, RoomType::Group]);
        let pairs = filter.query_pairs();
        assert_eq!(pairs[2], ("Codec", "VP8".to_owned()));
        assert_eq!(pairs[3], ("Codec", "opus".to_owned()));
    }

    #[test]
    fn page_size_is_clamped_above_and_refused_below() {
        assert_eq!(parse_paging([("PageSize", "5000")]).unwrap().page_size, 1000);
        assert_eq!(parse_paging([("PageSize", "99999999999999999999")]).unwrap().page_size, 1000);
        assert_eq!(parse_paging([]).unwrap().page_size, 50);
        for bad in ["0", "-1", "abc", "1.5"] {
            let error = parse_paging([("PageSize", bad)]).unwrap_err();
            assert_eq!(error.param, "PageSize", "{bad}");
        }
    }

    #[test]
    fn every_bad_parameter_is_named() {
        for (key, value) in [
            ("RoomType", "huge"),
            ("Codec", "AV1"),
            ("CreatedAfter", "yesterday"),
            ("CreatedBefore", "2025-13-40"),
            ("Page", "-2"),
        ] {
            assert_eq!(parse_room_list([(key, value)]).unwrap_err().param, key);
        }
    }

    #[test]
    fn an_identity_search_needs_an_identity_and_keeps_it_exactly() {
        for pairs in [vec![], vec![("Identity", "")], vec![("PageSize", "5")]] {
            assert_eq!(parse_identity_search(pairs).unwrap_err().param, "Identity");
        }
        let (filter, paging) =
            parse_identity_search([("Identity", "Alice Smith"), ("CreatedAfter", "2025-10-27"), ("PageSize", "2")])
                .unwrap();
        assert_eq!(filter.identity, "Alice Smith");
        assert_eq!(filter.created_after, Some(Millis::parse_lenient("2025-10-27").unwrap()));
        assert_eq!(paging.page_size, 2);
        assert_eq!(filter.query_pairs()[0], ("Identity", "Alice Smith".to_owned()));
        assert_eq!(
            parse_identity_search([("Identity", "a"), ("CreatedBefore", "soon")]).unwrap_err().param,
            "CreatedBefore"
        );
        let other = parse_identity_search([("Identity", "alice smith")]).unwrap().0;
        assert_ne!(filter.canonical(), other.canonical(), "case matters");
    }

    #[test]
    fn the_canonical_text_tells_filter_sets_apart() {
        let (a, _) = parse_room_list([("RoomName", "a;n=b")]).unwrap();
        let (b, _) = parse_room_list([("RoomName", "a"), ("Codec", "VP8")]).unwrap();
        assert_ne!(a.canonical(), b.canonical());
    }
}
