-- +goose NO TRANSACTION
-- +goose Up
-- A user's conversations are found from indexes led by the user, so that
-- no plan can start from the app and filter every chat of it. With the
-- key led by (app_id, kind) and conversations_b_idx on (app_id, kind, b),
-- a planner without statistics (a database loaded moments ago, before
-- autovacuum analyzed it) costed "the chats whose a is the user" the same
-- through either index and took conversations_b_idx, scanning all of the
-- app's chats per login. Now the key is led by a and the chats' index by
-- b: each arm of the conversation list has one index that fits.
-- CONCURRENTLY, outside a transaction, so that a large table stays
-- writable while the indexes build; a build cut short leaves an invalid
-- index, which the DROP ... IF EXISTS clears on the next attempt.
DROP INDEX CONCURRENTLY IF EXISTS conversations_key_by_user;
CREATE UNIQUE INDEX CONCURRENTLY conversations_key_by_user ON conversations (a, b, kind, app_id);
ALTER TABLE conversations DROP CONSTRAINT conversations_key,
    ADD CONSTRAINT conversations_key UNIQUE USING INDEX conversations_key_by_user;
DROP INDEX CONCURRENTLY IF EXISTS conversations_chats_b_idx;
CREATE INDEX CONCURRENTLY conversations_chats_b_idx ON conversations (b) WHERE kind = 1;
DROP INDEX CONCURRENTLY IF EXISTS conversations_b_idx;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS conversations_by_app_key;
CREATE UNIQUE INDEX CONCURRENTLY conversations_by_app_key ON conversations (app_id, kind, a, b);
ALTER TABLE conversations DROP CONSTRAINT conversations_key,
    ADD CONSTRAINT conversations_key UNIQUE USING INDEX conversations_by_app_key;
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_b_idx ON conversations (app_id, kind, b);
DROP INDEX CONCURRENTLY IF EXISTS conversations_chats_b_idx;
