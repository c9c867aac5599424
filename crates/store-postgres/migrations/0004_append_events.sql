-- An event's identity is its `event_id` within its account's room (both backends): the key
-- puts a room's events together, so a batch of events dirties one index page per room rather
-- than one per event, and the same index serves a room's rebuild.
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (account_sid, room_sid, event_id);
DROP INDEX events_by_room;
