-- Events out (docs/behaviour.md §6): where each account's callbacks are forwarded, its room
-- webhook endpoints, and the outbox: every message is written in the transaction of the event
-- that causes it and deleted once delivered.
CREATE TABLE forward_targets (
    account_sid TEXT NOT NULL REFERENCES accounts (sid),
    position    INTEGER NOT NULL,
    url         TEXT NOT NULL,
    PRIMARY KEY (account_sid, position)
) WITHOUT ROWID;

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts (sid),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_sid);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    account_sid       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    target            TEXT NOT NULL,
    endpoint_id       TEXT,
    room_sid          TEXT NOT NULL,
    body              TEXT NOT NULL,
    idempotency_token TEXT,
    created_ms        INTEGER NOT NULL,
    -- Retried until then, then kept as failed; `outbox retry` moves it on.
    expires_ms        INTEGER NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_ms   INTEGER NOT NULL,
    lease_holder      TEXT,
    lease_until_ms    INTEGER NOT NULL,
    last_error        TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms, seq);
CREATE INDEX outbox_by_target ON outbox (account_sid, target, state);

-- Each target's latest outcome, for the dashboard (delivered messages are deleted).
CREATE TABLE outbox_targets (
    account_sid       TEXT NOT NULL,
    target            TEXT NOT NULL,
    last_error        TEXT,
    last_error_ms     INTEGER,
    last_delivered_ms INTEGER,
    PRIMARY KEY (account_sid, target)
) WITHOUT ROWID;
