-- +goose Up
-- cleared_seq is the Seq up to which the user cleared the conversation
-- (DELETE /message/conversation, or joining a group whose history is not
-- visible): the user's lists skip messages at or below it.
ALTER TABLE conv_reads ADD COLUMN cleared_seq BIGINT NOT NULL DEFAULT 0;

-- The messages a user deleted for themselves alone. The lists check the
-- primary key with NOT EXISTS; message_id's index serves the cascade when
-- a group's messages go with the group.
CREATE TABLE message_hides (
    app_id     TEXT   NOT NULL,
    user_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    CONSTRAINT message_hides_pkey PRIMARY KEY (app_id, user_id, message_id),
    CONSTRAINT message_hides_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT message_hides_message_fkey FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE
);
CREATE INDEX message_hides_message_idx ON message_hides (message_id);

-- The Seq of the last of the user's notices each device was sent.
ALTER TABLE devices ADD COLUMN notice_seq BIGINT NOT NULL DEFAULT 0;

-- The operation an OPER message stores (RECALL, APPEND, REPLACE) and the
-- message it applies to.
ALTER TABLE messages ADD COLUMN op INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN op_mid BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages DROP COLUMN op_mid;
ALTER TABLE messages DROP COLUMN op;
ALTER TABLE devices DROP COLUMN notice_seq;
DROP TABLE message_hides;
ALTER TABLE conv_reads DROP COLUMN cleared_seq;
