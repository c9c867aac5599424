//! Keyset paging (docs/behaviour.md §2): signed, opaque page tokens bound to the account and filter set,
//! and the assembly of one page from the `PageSize + 1` rows a store returns.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::summary::StoredJson;
use crate::time::Millis;

/// Which way a cursor walks from its boundary row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The rows after the boundary in list order (`PA…` tokens).
    Next,
    /// The rows before the boundary, walked backwards (`PB…` tokens).
    Previous,
}

/// A boundary row of a list, `(sort time in seconds, sid)`, and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub direction: Direction,
    pub time_secs: i64,
    pub sid: String,
}

/// What a page token carries: the cursor, and the default-window cut-off fixed by the first
/// page so later pages do not drift (docs/behaviour.md §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub cursor: Cursor,
    pub cutoff: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the page token is not valid for this account and these filters")]
pub struct TokenError;

/// The server's key for signing page tokens; shared by every node of one database.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

const MAC_LEN: usize = 12;
const SID_LEN: usize = 34;
const NO_CUTOFF: i64 = i64::MIN;

impl TokenKey {
    pub fn new(secret: Vec<u8>) -> TokenKey {
        TokenKey(secret)
    }

    fn mac(&self, scope: &str, direction: u8, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(&[direction]);
        mac.update(&(scope.len() as u64).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// `scope` names the account, the resource and the canonical filter set.
    pub fn encode(&self, scope: &str, state: &TokenState) -> String {
        let (prefix, direction) = match state.cursor.direction {
            Direction::Next => ("PA", b'A'),
            Direction::Previous => ("PB", b'B'),
        };
        let mut payload = Vec::with_capacity(16 + SID_LEN + MAC_LEN);
        payload.extend_from_slice(&state.cursor.time_secs.to_be_bytes());
        payload.extend_from_slice(&state.cutoff.map_or(NO_CUTOFF, |c| c.0).to_be_bytes());
        payload.extend_from_slice(state.cursor.sid.as_bytes());
        let mac = self.mac(scope, direction, &payload);
        payload.extend_from_slice(&mac);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(payload))
    }

    pub fn decode(&self, scope: &str, token: &str) -> Result<TokenState, TokenError> {
        let (direction, code) = match token.get(..2) {
            Some("PA") => (Direction::Next, b'A'),
            Some("PB") => (Direction::Previous, b'B'),
            _ => return Err(TokenError),
        };
        let bytes = URL_SAFE_NO_PAD.decode(&token[2..]).map_err(|_| TokenError)?;
        if bytes.len() != 16 + SID_LEN + MAC_LEN {
            return Err(TokenError);
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let expected = self.mac(scope, code, payload);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], mac)) {
            return Err(TokenError);
        }
        let time_secs = i64::from_be_bytes(payload[0..8].try_into().map_err(|_| TokenError)?);
        let cutoff = i64::from_be_bytes(payload[8..16].try_into().map_err(|_| TokenError)?);
        let sid = std::str::from_utf8(&payload[16..]).map_err(|_| TokenError)?.to_owned();
        Ok(TokenState {
            cursor: Cursor { direction, time_secs, sid },
            cutoff: (cutoff != NO_CUTOFF).then_some(Millis(cutoff)),
        })
    }
}

/// One page to fetch: a store returns up to `size + 1` rows starting at the cursor (or at
/// `offset` rows from the start of the list when there is none), in the cursor's walking order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: u32,
    pub page: u32,
    pub cursor: Option<Cursor>,
    pub offset: u64,
    /// The default window's lower bound on `create_time` (rooms only).
    pub cutoff: Option<Millis>,
}

impl PageRequest {
    pub fn fetch_limit(&self) -> u32 {
        self.size + 1
    }

    pub fn walks_backwards(&self) -> bool {
        self.cursor.as_ref().is_some_and(|c| c.direction == Direction::Previous)
    }
}

/// A listed row: its sort key and its stored JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub time_secs: i64,
    pub sid: String,
    pub json: StoredJson,
}

/// A page in list order, with the cursors to the neighbouring pages when they exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<Row>,
    pub next: Option<Cursor>,
    pub previous: Option<Cursor>,
}

impl Page {
    pub fn assemble(mut rows: Vec<Row>, request: &PageRequest) -> Page {
        let size = request.size as usize;
        let more_in_walk = rows.len() > size;
        rows.truncate(size);
        let (has_next, has_previous) = if request.walks_backwards() {
            rows.reverse();
            (true, more_in_walk)
        } else {
            (more_in_walk, request.cursor.is_some() || request.offset > 0)
        };
        // "previous_page_url: null on the first page" (docs/behaviour.md §2).
        let has_previous = has_previous && request.page > 0;
        let boundary = |row: &Row, direction| Cursor { direction, time_secs: row.time_secs, sid: row.sid.clone() };
        Page {
            next: rows.last().filter(|_| has_next).map(|r| boundary(r, Direction::Next)),
            previous: rows.first().filter(|_| has_previous).map(|r| boundary(r, Direction::Previous)),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> TokenState {
        TokenState {
            cursor: Cursor {
                direction: Direction::Next,
                time_secs: 1_761_588_961,
                sid: "RM0123456789abcdef0123456789abcdef".into(),
            },
            cutoff: Some(Millis(1_761_500_000_000)),
        }
    }

    #[test]
    fn a_token_decodes_to_what_was_encoded_in_its_scope_only() {
        let key = TokenKey::new(b"secret".to_vec());
        let token = key.encode("AC1|rooms|x", &state());
        assert!(token.starts_with("PA"));
        assert_eq!(key.decode("AC1|rooms|x", &token), Ok(state()));
        assert_eq!(key.decode("AC2|rooms|x", &token), Err(TokenError));
        assert_eq!(key.decode("AC1|rooms|y", &token), Err(TokenError));
        assert_eq!(TokenKey::new(b"other".to_vec()).decode("AC1|rooms|x", &token), Err(TokenError));
    }

    #[test]
    fn garbled_or_tampered_tokens_are_refused() {
        let key = TokenKey::new(b"secret".to_vec());
        let token = key.encode("s", &state());
        let flipped = format!("PB{}", &token[2..]);
        let mut tampered = token.clone().into_bytes();
        tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
        for bad in [
            String::new(),
            "PA".into(),
            "PAnot-base64!".into(),
            flipped,
            String::from_utf8(tampered).unwrap(),
            "XY".repeat(40),
        ] {
            assert_eq!(key.decode("s", &bad), Err(TokenError), "{bad}");
        }
    }

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row { time_secs: 100 - i as i64, sid: format!("RM{i:032}"), json: StoredJson("{}".into()) })
            .collect()
    }

    #[test]
    fn a_first_page_with_one_row_more_has_a_next_cursor_and_no_previous() {
        let request = PageRequest { size: 2, page: 0, cursor: None, offset: 0, cutoff: None };
        let page = Page::assemble(rows(3), &request);
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.next.unwrap().sid, rows(2)[1].sid);
        assert!(page.previous.is_none());
    }

    #[test]
    fn a_backward_page_is_returned_in_list_order() {
        let cursor = Cursor { direction: Direction::Previous, time_secs: 0, sid: String::new() };
        let request = PageRequest { size: 2, page: 1, cursor: Some(cursor), offset: 0, cutoff: None };
        let mut walked = rows(2);
        walked.reverse();
        let page = Page::assemble(walked, &request);
        assert_eq!(page.rows, rows(2));
        assert!(page.next.is_some());
        assert!(page.previous.is_none());
    }
}
