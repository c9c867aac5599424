-- One identity across rooms (docs/behaviour.md §7.2): each participant row carries its
-- identity, and an index serves one identity's sessions newest first, by keyset.
ALTER TABLE participants ADD COLUMN identity TEXT;
UPDATE participants SET identity = summary::jsonb ->> 'participant_identity';
CREATE INDEX participants_by_identity ON participants (account_sid, identity, join_time DESC, participant_sid DESC);
