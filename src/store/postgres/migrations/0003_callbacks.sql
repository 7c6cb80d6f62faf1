-- Callback requests: callers nobody could take, to be called back by a worker. Ordered
-- by when they were asked for, oldest first.

CREATE TABLE callbacks (
    id TEXT PRIMARY KEY,
    requested_at TIMESTAMPTZ NOT NULL,
    record JSONB NOT NULL
);
CREATE INDEX callbacks_requested ON callbacks (requested_at, id);
