-- shiftline's state on PostgreSQL. Records are JSON (the same encoding as the sled
-- backend), with columns beside them for what queries select, order or count by.

CREATE TABLE workers (
    phone TEXT PRIMARY KEY,
    record JSONB NOT NULL
);

-- Wrong-PIN counts of numbers that are not (yet) workers.
CREATE TABLE pins (
    phone TEXT PRIMARY KEY,
    attempts JSONB NOT NULL
);

-- Webhooks already handled, with the reply given: a retry gets the same answer.
CREATE TABLE seen (
    event_id TEXT PRIMARY KEY,
    reply TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX seen_at ON seen (at);

-- Outbox commands and timers share one sequence: ids tell the order they were written.
CREATE SEQUENCE command_ids;

CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    lane TEXT NOT NULL,
    urgent BOOLEAN NOT NULL,
    enqueued_at TIMESTAMPTZ NOT NULL,
    -- Not to be tried before; NULL for at once.
    not_before TIMESTAMPTZ,
    -- Failed at least once.
    failing BOOLEAN NOT NULL DEFAULT FALSE,
    entry JSONB NOT NULL
);
CREATE INDEX outbox_lane ON outbox (lane, id);

-- One row per lane with commands: where it stands in the delivery order (urgent lanes
-- first, then by when the head is due, then oldest head), and who holds it. A lane is
-- claimed by one instance until `lease_until`; a holder that dies lets its lease run out
-- and another instance takes the lane over.
CREATE TABLE lanes (
    lane TEXT PRIMARY KEY,
    head BIGINT NOT NULL,
    due TIMESTAMPTZ NOT NULL,
    urgent INTEGER NOT NULL,
    claimed_by TEXT,
    lease_until TIMESTAMPTZ
);
CREATE INDEX lanes_order ON lanes ((urgent = 0), due, head);

CREATE TABLE parked (
    id BIGINT PRIMARY KEY,
    record JSONB NOT NULL
);

CREATE TABLE timers (
    id BIGINT PRIMARY KEY,
    due TIMESTAMPTZ NOT NULL,
    timer JSONB NOT NULL
);
CREATE INDEX timers_due ON timers (due, id);

CREATE TABLE dispatch (
    reservation_sid TEXT PRIMARY KEY,
    record JSONB NOT NULL
);

CREATE TABLE voicemails (
    recording_sid TEXT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    record JSONB NOT NULL
);

CREATE TABLE history (
    id BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL,
    change JSONB NOT NULL
);
CREATE INDEX history_phone ON history (phone, id);
