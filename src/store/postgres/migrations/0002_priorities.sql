-- Three priorities instead of urgent or not: what a customer waits on (0), a worker's
-- TaskRouter state (1), texts (2). A lane goes at the most urgent priority it holds.

ALTER TABLE outbox ADD COLUMN priority SMALLINT NOT NULL DEFAULT 2;
UPDATE outbox SET priority = CASE
    WHEN urgent THEN 0
    WHEN entry->'command'->>'command' = 'sync_worker' THEN 1
    ELSE 2
END;
ALTER TABLE outbox DROP COLUMN urgent;

ALTER TABLE lanes ADD COLUMN priority SMALLINT NOT NULL DEFAULT 2;
UPDATE lanes l SET priority = coalesce(
    (SELECT min(o.priority) FROM outbox o WHERE o.lane = l.lane), 2);
DROP INDEX lanes_order;
ALTER TABLE lanes DROP COLUMN urgent;
CREATE INDEX lanes_order ON lanes (priority, due, head);
