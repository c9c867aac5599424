-- The event log as an append-only rowid table. Under `WITHOUT ROWID` keyed by the event's
-- identity, whole event rows (several hundred bytes each) landed at random places of one B-tree:
-- every insert dirtied a random table page, which SQLite then wrote to the WAL and again to the
-- database. Rows now go to the end of the table in arrival order; only the identity index, with
-- small entries, takes random inserts, and a room's events sit together in `events_by_room`.
ALTER TABLE events RENAME TO events_0003;
DROP INDEX events_by_room;
CREATE TABLE events (
    account_sid TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    room_sid    TEXT NOT NULL,
    ts_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    raw         TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
INSERT INTO events (account_sid, event_id, room_sid, ts_ms, kind, source, body, raw, received_ms)
    SELECT account_sid, event_id, room_sid, ts_ms, kind, source, body, raw, received_ms
    FROM events_0003 ORDER BY received_ms;
DROP TABLE events_0003;
CREATE UNIQUE INDEX events_by_room ON events (account_sid, room_sid, event_id);
