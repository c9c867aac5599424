//! Reading replies: SIDs out of lists, URLs into parts, the API's timestamp form.

use serde_json::Value;

/// The `key` of every object in a JSON array, in order.
pub fn sids(items: &Value, key: &str) -> Vec<String> {
    let items = items.as_array().unwrap_or_else(|| panic!("expected an array, got {items}"));
    items.iter().map(|item| item[key].as_str().expect("a SID string").to_owned()).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only timestamp form twilio-python parses (docs/behaviour.md §1).
pub fn is_api_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    bytes.len() == 20
        && digits.iter().all(|&i| bytes[i].is_ascii_digit())
        && [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')].iter().all(|&(i, c)| bytes[i] == c)
}

/// A copy of a summary without its per-request parts (`url`, `links`), to compare servers.
pub fn without_urls(summary: &Value) -> Value {
    let mut copy = summary.clone();
    if let Some(object) = copy.as_object_mut() {
        object.remove("url");
        object.remove("links");
    }
    copy
}

/// An absolute URL split into its part before `?` and its decoded query pairs, in order.
pub fn url_parts(url: &str) -> (String, Vec<(String, String)>) {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    (head.to_owned(), form_urlencoded::parse(query.as_bytes()).into_owned().collect())
}

/// Query pairs written as `[("PageSize", "2")]`, for comparing with `url_parts`.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}
