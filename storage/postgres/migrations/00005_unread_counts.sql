-- +goose Up
-- Unread counts leave OPER messages (type 1: RECALL, APPEND, REPLACE
-- stored in the conversation) out. n is the number of the conversation's
-- messages up to and including this one that count, so an OPER message
-- has the n of the message before it; last_n is the n of the latest
-- message, bumped with last_seq by the send. A user's unread count is
-- last_n less the n of the message at the user's read_seq (0 for none).
ALTER TABLE conversations ADD COLUMN last_n BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN n BIGINT NOT NULL DEFAULT 0;

UPDATE messages SET n = w.n
FROM (
    SELECT conv_id, seq,
        SUM(CASE WHEN type <> 1 THEN 1 ELSE 0 END) OVER (PARTITION BY conv_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS n
    FROM messages
) AS w
WHERE messages.conv_id = w.conv_id AND messages.seq = w.seq AND w.n <> 0;

UPDATE conversations SET last_n = m.n
FROM messages m
WHERE m.conv_id = conversations.id AND m.seq = conversations.last_seq AND m.n <> 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN n;
ALTER TABLE conversations DROP COLUMN last_n;
