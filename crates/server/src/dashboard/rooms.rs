//! The rooms page: the API's filters as a GET form (so a view is a shareable URL), one page of
//! rooms and keyset links to its neighbours, all through the query `GET /v1/Video/Rooms` runs.

use askama::Template;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roomlog_core::query::{parse_room_list, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use roomlog_core::store::IMPORT_JOB;
use roomlog_core::{AccountSid, Codec, Millis, RoomSummary, RoomType};

use super::format;
use super::sign_in::SignedIn;
use super::{page, Nav, PageError};
use crate::http::insights::{room_page, RoomPage};
use crate::http::listing::{neighbour_urls, ListUrl};
use crate::http::page_tokens;
use crate::state::AppState;

/// A checkbox of a repeatable filter.
struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// The form as the person filled it in (raw text, so a mistyped date stays to be corrected).
struct FilterForm {
    room_types: Vec<Choice>,
    codecs: Vec<Choice>,
    room_name: String,
    created_after: String,
    created_before: String,
    page_sizes: Vec<(u32, bool)>,
    /// Whether any filter is set (for the empty state).
    filtered: bool,
}

impl FilterForm {
    fn read(pairs: &[(String, String)]) -> FilterForm {
        let values = |key: &'static str| pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str());
        let last = |key: &'static str| values(key).next_back().unwrap_or_default().to_owned();
        let room_types = RoomType::ALL
            .iter()
            .map(|&t| Choice {
                value: t.as_str(),
                label: format::room_type(Some(t)),
                checked: values("RoomType").any(|v| v.parse() == Ok(t)),
            })
            .collect();
        let codecs = Codec::ALL
            .iter()
            .map(|&c| Choice {
                value: c.as_str(),
                label: c.as_str(),
                checked: values("Codec").any(|v| v.parse() == Ok(c)),
            })
            .collect();
        let size = last("PageSize").trim().parse::<u32>().ok().filter(|s| (1..=MAX_PAGE_SIZE).contains(s));
        let size = size.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut sizes = vec![10, 25, 50, 100];
        if !sizes.contains(&size) {
            sizes.push(size);
            sizes.sort_unstable();
        }
        let filtered = ["RoomType", "Codec", "RoomName", "CreatedAfter", "CreatedBefore"]
            .iter()
            .any(|key| values(key).next().is_some());
        FilterForm {
            room_types,
            codecs,
            room_name: last("RoomName"),
            created_after: last("CreatedAfter"),
            created_before: last("CreatedBefore"),
            page_sizes: sizes.into_iter().map(|s| (s, s == size)).collect(),
            filtered,
        }
    }
}

/// One table row, written for people.
struct RoomRow {
    href: String,
    sid: String,
    name: String,
    room_type: &'static str,
    status: &'static str,
    created: String,
    duration: String,
    participants: i64,
    peak: i64,
    codecs: String,
    recording: String,
}

impl RoomRow {
    fn of(room: RoomSummary) -> RoomRow {
        let sid = room.room_sid.to_string();
        let recording = match (room.recording_enabled, room.total_recording_duration_sec) {
            (_, seconds) if seconds > 0 => format!("yes, {}", format::duration(Some(seconds))),
            (true, _) => "yes".to_owned(),
            (false, _) => "no".to_owned(),
        };
        RoomRow {
            href: format!("/rooms/{sid}"),
            name: room.room_name.unwrap_or_else(|| sid.clone()),
            sid,
            room_type: format::room_type(room.room_type),
            status: format::room_status(room.room_status),
            created: format::datetime(room.create_time),
            duration: match room.duration_sec {
                Some(seconds) => format::duration(Some(seconds)),
                None => "ongoing".to_owned(),
            },
            participants: room.unique_participants,
            peak: room.concurrent_participants,
            codecs: format::codecs(&room.codecs),
            recording,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/rooms.html")]
struct RoomsPage {
    nav: Option<Nav>,
    form: FilterForm,
    error: Option<String>,
    /// The default window's notice, when it applies (docs/behaviour.md §2).
    window: Option<String>,
    /// The scheduled import into this account: when it last ran and how it ended.
    import: Option<ImportLine>,
    rooms: Vec<RoomRow>,
    page_number: u32,
    first: Option<String>,
    previous: Option<String>,
    next: Option<String>,
}

struct ImportLine {
    ok: bool,
    text: String,
}

/// The latest scheduled import, if it worked for `account`.
async fn last_import(state: &AppState, account: &AccountSid) -> Option<ImportLine> {
    let run = state.store.job_runs(IMPORT_JOB, 1).await.ok()?.into_iter().next()?;
    if run.account_sid.as_ref().is_some_and(|sid| sid != account) {
        return None;
    }
    let when = format::datetime(Some(run.finished));
    let text = format!("Last import from upstream: {when} UTC — {}", run.message);
    Some(ImportLine { ok: run.ok, text })
}

/// `24 hours`, `7 days`: the default window as operators set it.
fn span_words(millis: i64) -> String {
    let seconds = millis / 1000;
    match seconds {
        s if s % 86_400 == 0 && s > 86_400 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

pub async fn list(State(state): State<AppState>, signed_in: SignedIn, uri: OriginalUri) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    // A submitted form sends its empty fields too; drop them so the URL shows only the view.
    if pairs.iter().any(|(_, value)| value.is_empty()) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()));
        let query = query.finish();
        return Ok(Redirect::to(&if query.is_empty() { "/".to_owned() } else { format!("/?{query}") }).into_response());
    }
    let mut view = RoomsPage {
        nav: Some(signed_in.nav()),
        form: FilterForm::read(&pairs),
        error: None,
        window: None,
        import: last_import(&state, &signed_in.account).await,
        rooms: Vec::new(),
        page_number: 1,
        first: None,
        previous: None,
        next: None,
    };
    let parsed = parse_room_list(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let listed = match parsed {
        Ok((filter, paging)) => room_page(&state, &signed_in.account, &filter, &paging).await.map(|p| (filter, p)),
        Err(error) => Err(error.into()),
    };
    let (filter, RoomPage { scope, request, page: rooms }) = match listed {
        Ok(listed) => listed,
        // A bad filter or a stale page token is the person's to fix: show it on the form.
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            view.error = Some(error.message);
            return Ok(page(StatusCode::BAD_REQUEST, &view));
        }
        Err(error) => return Err(error.into()),
    };
    let url = ListUrl { base: "", path: "/", filters: filter.query_pairs() };
    (view.next, view.previous) = neighbour_urls(&url, &request, &rooms, (page_tokens(&state)?, &scope));
    view.first = (request.page > 0).then(|| url.with(request.size, 0, None));
    view.page_number = request.page.saturating_add(1);
    view.window = request.cutoff.map(|cutoff: Millis| {
        format!(
            "Without a date filter, rooms created in the last {} are listed (since {} UTC), as Twilio does. \
             Set “Created after” to see older rooms.",
            span_words(state.config.default_window_ms),
            format::datetime(Some(cutoff))
        )
    });
    for row in rooms.rows {
        view.rooms.push(RoomRow::of(serde_json::from_str(&row.json.0)?));
    }
    Ok(page(StatusCode::OK, &view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_form_reflects_every_filter_in_any_accepted_spelling() {
        let form = FilterForm::read(&pairs(&[
            ("RoomType", "peer-to-peer"),
            ("Codec", "OPUS"),
            ("RoomName", "standup"),
            ("CreatedAfter", "2025-10-27"),
            ("PageSize", "7"),
        ]));
        let checked = |choices: &[Choice]| choices.iter().filter(|c| c.checked).map(|c| c.value).collect::<Vec<_>>();
        assert_eq!(checked(&form.room_types), ["peer_to_peer"]);
        assert_eq!(checked(&form.codecs), ["opus"]);
        assert_eq!((form.room_name.as_str(), form.created_after.as_str()), ("standup", "2025-10-27"));
        assert!(form.page_sizes.contains(&(7, true)), "an unusual page size stays selected");
        assert!(form.filtered);
        assert!(!FilterForm::read(&pairs(&[("PageSize", "10")])).filtered, "paging is no filter");
    }

    #[test]
    fn the_default_window_is_named_in_words() {
        assert_eq!(span_words(86_400_000), "24 hours");
        assert_eq!(span_words(7 * 86_400_000), "7 days");
        assert_eq!(span_words(90_000), "90 seconds");
    }
}
