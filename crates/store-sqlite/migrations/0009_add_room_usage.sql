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
SELECT r.account_sid, r.room_sid, r.create_time / 86400, json_extract(r.summary, '$.room_type'),
       json_extract(r.summary, '$.room_status') = 'completed',
       (SELECT COUNT(*) FROM participants p WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid),
       (SELECT COALESCE(SUM(MAX(json_extract(p.summary, '$.duration_sec'), 0)), 0) FROM participants p
         WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid
           AND json_extract(p.summary, '$.duration_sec') IS NOT NULL),
       (SELECT COALESCE(SUM((MAX(json_extract(p.summary, '$.duration_sec'), 0) + 59) / 60), 0) FROM participants p
         WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid
           AND json_extract(p.summary, '$.duration_sec') IS NOT NULL),
       CASE WHEN json_extract(r.summary, '$.room_status') = 'completed'
            THEN MAX(COALESCE(json_extract(r.summary, '$.duration_sec'), 0), 0) ELSE 0 END,
       COALESCE(json_extract(r.summary, '$.total_recording_duration_sec'), 0),
       COALESCE(json_extract(r.summary, '$.concurrent_participants'), 0),
       (SELECT json_group_array(DISTINCT p.identity) FROM participants p
         WHERE p.account_sid = r.account_sid AND p.room_sid = r.room_sid AND p.identity IS NOT NULL)
FROM rooms r WHERE r.summary <> '';
