-- The last id in a lane when its holder took it: a newer sync may supersede the untried
-- syncs after it, never one the holder may be delivering.
ALTER TABLE lanes ADD COLUMN claimed_through BIGINT;
