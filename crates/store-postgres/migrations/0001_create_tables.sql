-- roomlog's PostgreSQL schema: the same tables as SQLite's. Append-only. Kept to what
-- CockroachDB and YugabyteDB also accept: no extensions, no advisory locks, no triggers.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE accounts (
    sid              TEXT PRIMARY KEY,
    auth_token       TEXT NOT NULL,
    friendly_name    TEXT NOT NULL,
    verify_callbacks BOOLEAN NOT NULL DEFAULT TRUE,
    created_ms       BIGINT NOT NULL
);

CREATE TABLE api_keys (
    sid           TEXT PRIMARY KEY,
    account_sid   TEXT NOT NULL REFERENCES accounts (sid),
    friendly_name TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    created_ms    BIGINT NOT NULL
);

CREATE TABLE events (
    account_sid TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    room_sid    TEXT NOT NULL,
    ts_ms       BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    raw         TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (account_sid, event_id)
);
CREATE INDEX events_by_room ON events (account_sid, room_sid, ts_ms);

-- `state` is NULL only inside the transaction that creates the room: the row is inserted first
-- so that concurrent writers of the same room queue on its lock (see the crate's docs).
CREATE TABLE rooms (
    account_sid TEXT NOT NULL,
    room_sid    TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    room_name   TEXT,
    room_type   TEXT,
    codecs      BIGINT NOT NULL,
    revisit_ms  BIGINT,
    state       TEXT,
    summary     TEXT NOT NULL,
    PRIMARY KEY (account_sid, room_sid)
);
CREATE INDEX rooms_by_time ON rooms (account_sid, create_time DESC, room_sid DESC);
CREATE INDEX rooms_by_name ON rooms (account_sid, room_name, create_time DESC, room_sid DESC);
CREATE INDEX rooms_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC);
CREATE INDEX rooms_to_revisit ON rooms (revisit_ms) WHERE revisit_ms IS NOT NULL;

CREATE TABLE participants (
    account_sid     TEXT NOT NULL,
    room_sid        TEXT NOT NULL,
    participant_sid TEXT NOT NULL,
    join_time       BIGINT NOT NULL,
    summary         TEXT NOT NULL,
    PRIMARY KEY (account_sid, room_sid, participant_sid)
);
CREATE INDEX participants_by_join ON participants (account_sid, room_sid, join_time, participant_sid);
