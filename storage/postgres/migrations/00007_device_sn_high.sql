-- +goose Up
-- The highest device SN a user has had among devices since deleted (by
-- the user, an admin or the cap on kept devices), so that a new device
-- never takes the SN of a removed one: a client still holding that SN
-- would log in as the new device.
ALTER TABLE users ADD COLUMN device_sn_high BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN device_sn_high;
