-- roomlog's SQLite schema. Append-only: change it with a new NNNN_verb_noun.sql file.

-- Server-wide values shared by every process on this database (the page-token key).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
    sid              TEXT PRIMARY KEY,
    auth_token       TEXT NOT NULL,
    friendly_name    TEXT NOT NULL,
    verify_callbacks INTEGER NOT NULL DEFAULT 1,
    created_ms       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
    sid           TEXT PRIMARY KEY,
    account_sid   TEXT NOT NULL REFERENCES accounts (sid),
    friendly_name TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
) WITHOUT ROWID;

-- The raw record of every accepted event; its identity makes repeats no-ops.
CREATE TABLE events (
    account_sid TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    room_sid    TEXT NOT NULL,
    ts_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    raw         TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (account_sid, event_id)
) WITHOUT ROWID;
CREATE INDEX events_by_room ON events (account_sid, room_sid, ts_ms);

-- One row per room: the fold's state, the rendered summary, and the columns lists filter on.
CREATE TABLE rooms (
    account_sid TEXT NOT NULL,
    room_sid    TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    room_name   TEXT,
    room_type   TEXT,
    codecs      INTEGER NOT NULL,
    revisit_ms  INTEGER,
    state       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    PRIMARY KEY (account_sid, room_sid)
);
-- The list order (BEHAVIOUR §2): every page, first or millionth, is one range scan.
CREATE INDEX rooms_by_time ON rooms (account_sid, create_time DESC, room_sid DESC);
CREATE INDEX rooms_by_name ON rooms (account_sid, room_name, create_time DESC, room_sid DESC);
CREATE INDEX rooms_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC);
CREATE INDEX rooms_to_revisit ON rooms (revisit_ms) WHERE revisit_ms IS NOT NULL;

CREATE TABLE participants (
    account_sid     TEXT NOT NULL,
    room_sid        TEXT NOT NULL,
    participant_sid TEXT NOT NULL,
    join_time       INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    PRIMARY KEY (account_sid, room_sid, participant_sid)
) WITHOUT ROWID;
CREATE INDEX participants_by_join ON participants (account_sid, room_sid, join_time, participant_sid);
