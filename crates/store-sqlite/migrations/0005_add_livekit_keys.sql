-- LiveKit API keys whose signed webhooks an account accepts (docs/behaviour.md §4.4). The
-- secret is kept as given: it is the HMAC key that verifies each webhook's token.
CREATE TABLE livekit_keys (
    api_key     TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts (sid),
    api_secret  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
) WITHOUT ROWID;
