-- The last id of the claim a lane's holder is delivering: a newer sync may supersede the
-- untried syncs after it, never the ones the holder has taken.
ALTER TABLE lanes ADD COLUMN claimed_through BIGINT;
