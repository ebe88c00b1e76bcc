-- +goose Up
-- A client_mid dedupes a resend only of the same message: the web SDK
-- makes client mids from the clock in milliseconds, so two distinct
-- messages can share one. client_hash is a hash of what the sender sent
-- (imgate's sqlstore.clientHash); a message with a stored one's client_mid
-- but another hash is a new message. Rows stored before carry 0, which
-- matches any hash, as the client_mid alone did.
ALTER TABLE messages ADD COLUMN client_hash INTEGER NOT NULL DEFAULT 0;
DROP INDEX messages_client_mid_key;
CREATE UNIQUE INDEX messages_client_mid_key ON messages (app_id, from_id, from_device, client_mid, client_hash) WHERE client_mid <> 0;

-- +goose Down
-- Fails if two messages of a device share a client_mid.
DROP INDEX messages_client_mid_key;
CREATE UNIQUE INDEX messages_client_mid_key ON messages (app_id, from_id, from_device, client_mid) WHERE client_mid <> 0;
ALTER TABLE messages DROP COLUMN client_hash;
