-- +goose Up
-- The key that conversations reference, so that a group conversation can
-- only name a group of its own app.
CREATE UNIQUE INDEX groups_app_id_key ON groups (app_id, id);

-- A conversation: a chat between the users a < b (a = b for a user's
-- notes to self), or the group a (b = 0). last_seq is the Seq of its
-- latest message; a send bumps it first, which locks the row until
-- commit, so that the Seqs and ids of one conversation commit in order.
-- group_id is a for a group and NULL for a chat: a group's conversation
-- goes with the group; a chat outlives its users.
CREATE TABLE conversations (
    id       BIGINT GENERATED ALWAYS AS IDENTITY,
    app_id   TEXT    NOT NULL,
    kind     INTEGER NOT NULL,
    a        BIGINT  NOT NULL,
    b        BIGINT  NOT NULL,
    group_id BIGINT,
    last_seq BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT conversations_pkey PRIMARY KEY (id),
    CONSTRAINT conversations_key UNIQUE (app_id, kind, a, b),
    CONSTRAINT conversations_group_fkey FOREIGN KEY (app_id, group_id) REFERENCES groups (app_id, id) ON DELETE CASCADE
);
CREATE INDEX conversations_b_idx ON conversations (app_id, kind, b);
CREATE INDEX conversations_group_idx ON conversations (group_id) WHERE group_id IS NOT NULL;

-- One row per message per conversation. id is the server_mid, from the
-- ids sequence; within a conversation it increases with seq.
CREATE TABLE messages (
    conv_id        BIGINT  NOT NULL,
    seq            BIGINT  NOT NULL,
    id             BIGINT  NOT NULL,
    app_id         TEXT    NOT NULL,
    kind           INTEGER NOT NULL,
    from_id        BIGINT  NOT NULL,
    from_device    BIGINT  NOT NULL DEFAULT 0,
    to_id          BIGINT  NOT NULL,
    type           INTEGER NOT NULL DEFAULT 0,
    ctype          INTEGER NOT NULL DEFAULT 0,
    content        TEXT    NOT NULL DEFAULT '',
    config         TEXT    NOT NULL DEFAULT '',
    attachment     TEXT    NOT NULL DEFAULT '',
    ext            TEXT    NOT NULL DEFAULT '',
    system         BOOLEAN NOT NULL DEFAULT FALSE,
    client_mid     BIGINT  NOT NULL DEFAULT 0,
    transaction_id TEXT    NOT NULL DEFAULT '',
    at             BIGINT  NOT NULL DEFAULT 0,
    edited_at      BIGINT  NOT NULL DEFAULT 0,
    recalled       BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT messages_pkey PRIMARY KEY (conv_id, seq),
    CONSTRAINT messages_conv_fkey FOREIGN KEY (conv_id) REFERENCES conversations (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX messages_id_key ON messages (id);
CREATE INDEX messages_conv_id_idx ON messages (conv_id, id);
CREATE UNIQUE INDEX messages_client_mid_key ON messages (app_id, from_id, from_device, client_mid) WHERE client_mid <> 0;
CREATE UNIQUE INDEX messages_transaction_id_key ON messages (app_id, transaction_id) WHERE transaction_id <> '';

-- Each user's read position in each conversation, chat or group: the Seq
-- of the last message read. No row reads as 0.
CREATE TABLE conv_reads (
    app_id   TEXT   NOT NULL,
    user_id  BIGINT NOT NULL,
    conv_id  BIGINT NOT NULL,
    read_seq BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT conv_reads_pkey PRIMARY KEY (app_id, user_id, conv_id),
    CONSTRAINT conv_reads_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT conv_reads_conv_fkey FOREIGN KEY (conv_id) REFERENCES conversations (id) ON DELETE CASCADE
);
CREATE INDEX conv_reads_conv_idx ON conv_reads (conv_id);

-- +goose Down
DROP TABLE conv_reads;
DROP TABLE messages;
DROP TABLE conversations;
DROP INDEX groups_app_id_key;
