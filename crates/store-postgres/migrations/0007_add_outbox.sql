-- Events out (docs/behaviour.md §6): where each account's callbacks are forwarded, its room
-- webhook endpoints, and the outbox: every message is written in the transaction of the event
-- that causes it and deleted once delivered.
CREATE TABLE forward_targets (
    account_sid TEXT NOT NULL REFERENCES accounts (sid),
    position    BIGINT NOT NULL,
    url         TEXT NOT NULL,
    PRIMARY KEY (account_sid, position)
);

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts (sid),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_sid);

CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    account_sid       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    target            TEXT NOT NULL,
    endpoint_id       TEXT,
    room_sid          TEXT NOT NULL,
    body              TEXT NOT NULL,
    idempotency_token TEXT,
    created_ms        BIGINT NOT NULL,
    -- Retried until then, then kept as failed; `outbox retry` moves it on.
    expires_ms        BIGINT NOT NULL,
    state             TEXT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_ms   BIGINT NOT NULL,
    lease_holder      TEXT,
    lease_until_ms    BIGINT NOT NULL,
    last_error        TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms, seq);
CREATE INDEX outbox_by_target ON outbox (account_sid, target, state);

-- Each target's latest outcome, for the dashboard (delivered messages are deleted).
CREATE TABLE outbox_targets (
    account_sid       TEXT NOT NULL,
    target            TEXT NOT NULL,
    last_error        TEXT,
    last_error_ms     BIGINT,
    last_delivered_ms BIGINT,
    PRIMARY KEY (account_sid, target)
);
