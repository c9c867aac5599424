-- Usage over time (docs/behaviour.md §7.1): what each room adds to the day of its create_time,
-- written in the transaction of its summary. Filled in here for rooms written before.
CREATE TABLE room_usage (
    account_sid         TEXT NOT NULL,
    room_sid            TEXT NOT NULL,
    day                 BIGINT NOT NULL,
    room_type           TEXT,
    completed           BIGINT NOT NULL,
    sessions            BIGINT NOT NULL,
    participant_seconds BIGINT NOT NULL,
    participant_minutes BIGINT NOT NULL,
    room_seconds        BIGINT NOT NULL,
    recording_seconds   BIGINT NOT NULL,
    peak                BIGINT NOT NULL,
    identities          TEXT NOT NULL,
    PRIMARY KEY (account_sid, room_sid)
);
CREATE INDEX room_usage_by_day ON room_usage (account_sid, day);

INSERT INTO room_usage
SELECT r.account_sid, r.room_sid, r.create_time / 86400, r.summary::jsonb ->> 'room_type',
       CASE WHEN r.summary::jsonb ->> 'room_status' = 'completed' THEN 1 ELSE 0 END,
       (SELECT COUNT(*) FROM participants p WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid),
       (SELECT COALESCE(SUM(GREATEST((p.summary::jsonb ->> 'duration_sec')::bigint, 0)), 0) FROM participants p
         WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid),
       (SELECT COALESCE(SUM((GREATEST((p.summary::jsonb ->> 'duration_sec')::bigint, 0) + 59) / 60), 0)
          FROM participants p WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid),
       CASE WHEN r.summary::jsonb ->> 'room_status' = 'completed'
            THEN GREATEST(COALESCE((r.summary::jsonb ->> 'duration_sec')::bigint, 0), 0) ELSE 0 END,
       COALESCE((r.summary::jsonb ->> 'total_recording_duration_sec')::bigint, 0),
       COALESCE((r.summary::jsonb ->> 'concurrent_participants')::bigint, 0),
       COALESCE((SELECT json_agg(DISTINCT p.identity)::text FROM participants p
         WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid AND p.identity IS NOT NULL), '[]')
FROM rooms r WHERE r.summary <> '';
