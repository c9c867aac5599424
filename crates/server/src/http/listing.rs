//! What both list resources share (docs/behaviour.md §2): turning `PageSize`/`Page`/`PageToken` into a
//! page request, and rendering a page with its `meta` of absolute URLs.

use roomlog_core::page::{Cursor, Page, PageRequest, TokenKey, TokenState};
use roomlog_core::summary::push_json_string;
use roomlog_core::{Millis, Paging, Row};
use serde_json::json;

use crate::http::error::ApiError;

/// Binds a page token to what it was issued for: the account, the resource and its filters.
pub struct Scope(pub String);

pub fn page_request(
    paging: &Paging,
    tokens: &TokenKey,
    scope: &Scope,
    fresh_cutoff: Option<Millis>,
) -> Result<PageRequest, ApiError> {
    let (cursor, cutoff) = match &paging.page_token {
        Some(token) => {
            let state =
                tokens.decode(&scope.0, token).map_err(|e| ApiError::invalid(format!("Invalid PageToken: {e}")))?;
            (Some(state.cursor), state.cutoff)
        }
        None => (None, fresh_cutoff),
    };
    let offset = if cursor.is_none() { u64::from(paging.page) * u64::from(paging.page_size) } else { 0 };
    Ok(PageRequest { size: paging.page_size, page: paging.page, cursor, offset, cutoff })
}

/// A list resource's URL parts: the absolute path and its filter pairs in canonical order.
pub struct ListUrl<'a> {
    pub base: &'a str,
    pub path: &'a str,
    pub filters: Vec<(&'static str, String)>,
}

impl ListUrl<'_> {
    pub fn with(&self, page_size: u32, page: u32, token: Option<&str>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.filters {
            query.append_pair(key, value);
        }
        query.append_pair("PageSize", &page_size.to_string());
        query.append_pair("Page", &page.to_string());
        if let Some(token) = token {
            query.append_pair("PageToken", token);
        }
        format!("{}{}?{}", self.base, self.path, query.finish())
    }
}

/// The URLs of the next and previous pages (`Page=page±1` with a `PA…`/`PB…` token), when
/// they exist. The dashboard links its pages with the same URLs.
pub fn neighbour_urls(
    url: &ListUrl<'_>,
    request: &PageRequest,
    page: &Page,
    (tokens, scope): (&TokenKey, &Scope),
) -> (Option<String>, Option<String>) {
    let token =
        |cursor: &Cursor| tokens.encode(&scope.0, &TokenState { cursor: cursor.clone(), cutoff: request.cutoff });
    let next = page.next.as_ref().map(|c| url.with(request.size, request.page.saturating_add(1), Some(&token(c))));
    let previous =
        page.previous.as_ref().map(|c| url.with(request.size, request.page.saturating_sub(1), Some(&token(c))));
    (next, previous)
}

/// Renders `{"<key>": [...], "meta": {...}}`; `render_row` writes one stored summary with its URL.
pub fn render(
    key: &str,
    url: &ListUrl<'_>,
    request: &PageRequest,
    paging: &Paging,
    page: &Page,
    (tokens, scope): (&TokenKey, &Scope),
    render_row: impl Fn(&mut String, &Row),
) -> String {
    let (next, previous) = neighbour_urls(url, request, page, (tokens, scope));
    let meta = json!({
        "first_page_url": url.with(request.size, 0, None),
        "key": key,
        "next_page_url": next,
        "page": request.page,
        "page_size": request.size,
        "previous_page_url": previous,
        "url": url.with(request.size, request.page, paging.page_token.as_deref()),
    });
    let mut out = String::with_capacity(64 + page.rows.iter().map(|r| r.json.0.len() + 160).sum::<usize>());
    out.push('{');
    push_json_string(&mut out, key);
    out.push_str(":[");
    for (i, row) in page.rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        render_row(&mut out, row);
    }
    out.push_str("],\"meta\":");
    out.push_str(&meta.to_string());
    out.push('}');
    out
}
