-- +goose Up
-- An app's webhook: the URL imgate POSTs its events to (empty: none), the
-- secret of their HMAC signature and MaxIM's static callback signature,
-- both kept in clear (the CLI shows neither), and the comma-separated
-- event types to send (empty with a URL: message).
ALTER TABLE apps ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN callback_signature TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN webhook_events TEXT NOT NULL DEFAULT '';

-- The durable outbox of webhook events, written in the transaction of the
-- change each reports. A dispatcher claims the oldest event of each
-- ordering key (a conversation, a user) whose next_at has come and whose
-- lease has run out, sends it, and deletes it; a failure counts an attempt
-- and sets next_at. The ids of one key increase in commit order: the
-- writers of a key hold its conversation's or user's row lock.
CREATE TABLE webhook_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    ordering    TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT  NOT NULL DEFAULT 0,
    lease_until BIGINT  NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_outbox_key_idx ON webhook_outbox (app_id, ordering, id);
CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_at, id);

-- +goose Down
DROP TABLE webhook_outbox;
ALTER TABLE apps DROP COLUMN webhook_events;
ALTER TABLE apps DROP COLUMN callback_signature;
ALTER TABLE apps DROP COLUMN webhook_secret;
ALTER TABLE apps DROP COLUMN webhook_url;
