-- Background work that one node of several does at a time (the scheduled import): who holds
-- it, until when. A holder renews its lease while it works; a dead node's lease expires.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- Each run of such work and how it ended, for the operator (/readyz, the dashboard).
CREATE TABLE job_runs (
    name        TEXT NOT NULL,
    started_ms  BIGINT NOT NULL,
    holder      TEXT NOT NULL,
    account_sid TEXT,
    finished_ms BIGINT NOT NULL,
    ok          BOOLEAN NOT NULL,
    rooms       BIGINT NOT NULL,
    message     TEXT NOT NULL,
    PRIMARY KEY (name, started_ms, holder)
);
