-- Listing by one codec (docs/behaviour.md §2 `Codec`): under the time index alone, a codec used by one
-- room in a thousand costs a scan of thousands of rooms per page. Partial indexes per codec,
-- by time and by room type then time, keep such a page one short range scan, alone or with a
-- room type. The list query writes a single codec's bit as a literal, `(codecs & 4) <> 0`,
-- which is what lets the planner match these predicates.
CREATE INDEX rooms_vp8 ON rooms (account_sid, create_time DESC, room_sid DESC) WHERE (codecs & 1) <> 0;
CREATE INDEX rooms_h264 ON rooms (account_sid, create_time DESC, room_sid DESC) WHERE (codecs & 2) <> 0;
CREATE INDEX rooms_vp9 ON rooms (account_sid, create_time DESC, room_sid DESC) WHERE (codecs & 4) <> 0;
CREATE INDEX rooms_opus ON rooms (account_sid, create_time DESC, room_sid DESC) WHERE (codecs & 8) <> 0;
CREATE INDEX rooms_vp8_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC)
    WHERE (codecs & 1) <> 0;
CREATE INDEX rooms_h264_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC)
    WHERE (codecs & 2) <> 0;
CREATE INDEX rooms_vp9_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC)
    WHERE (codecs & 4) <> 0;
CREATE INDEX rooms_opus_by_type ON rooms (account_sid, room_type, create_time DESC, room_sid DESC)
    WHERE (codecs & 8) <> 0;
