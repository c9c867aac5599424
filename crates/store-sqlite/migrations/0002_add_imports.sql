-- Rooms copied from another Insights API by `roomlog import`: their summaries are archived copies
-- with no events behind them, so ingest and `roomlog rebuild` leave them alone.
ALTER TABLE rooms ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;

-- Where each import left off, saved in the same transaction as the rooms it covers.
CREATE TABLE import_checkpoints (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
