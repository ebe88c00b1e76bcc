-- +goose Up
-- Every node asks the store, every --token-check-interval, which tokens
-- were revoked lately, so that sessions and cached verifications of a
-- token revoked by another process (the CLI, a node whose bus message
-- was lost) end within a bound: this index keeps that question cheap.
CREATE INDEX tokens_revoked_idx ON tokens (revoked_at) WHERE revoked_at <> 0;

-- +goose Down
DROP INDEX tokens_revoked_idx;
