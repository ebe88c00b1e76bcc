-- +goose Up
-- Kept values of the server itself, such as the token-signing secret.
CREATE TABLE settings (
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    CONSTRAINT settings_pkey PRIMARY KEY (key)
) STRICT;

-- The one sequence of user and group ids, as a one-row counter bumped inside
-- the write transaction: a conversation id names either, so the two must
-- never collide. The first id is 100000000, so ids never look like small
-- counters.
CREATE TABLE ids (
    id INTEGER NOT NULL CHECK (id = 1),
    v  INTEGER NOT NULL,
    CONSTRAINT ids_pkey PRIMARY KEY (id)
) STRICT;
INSERT INTO ids (id, v) VALUES (1, 99999999);

CREATE TABLE apps (
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    status     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT apps_pkey PRIMARY KEY (id)
) STRICT;

CREATE TABLE tokens (
    id          TEXT    NOT NULL,
    app_id      TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    user_id     INTEGER NOT NULL DEFAULT 0,
    device_guid TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL DEFAULT 0,
    revoked_at  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT tokens_pkey PRIMARY KEY (id),
    CONSTRAINT tokens_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
) STRICT;
CREATE INDEX tokens_app_user_idx ON tokens (app_id, user_id);
CREATE INDEX tokens_expires_idx ON tokens (expires_at) WHERE expires_at <> 0;

CREATE TABLE users (
    id                 INTEGER NOT NULL,
    app_id             TEXT    NOT NULL,
    username           TEXT    NOT NULL,
    password_hash      TEXT    NOT NULL DEFAULT '',
    nick_name          TEXT    NOT NULL DEFAULT '',
    avatar             TEXT    NOT NULL DEFAULT '',
    description        TEXT    NOT NULL DEFAULT '',
    email              TEXT    NOT NULL DEFAULT '',
    mobile             TEXT    NOT NULL DEFAULT '',
    public_info        TEXT    NOT NULL DEFAULT '',
    private_info       TEXT    NOT NULL DEFAULT '',
    status             INTEGER NOT NULL DEFAULT 0,
    auth_mode          INTEGER NOT NULL DEFAULT 0,
    auth_question      TEXT    NOT NULL DEFAULT '',
    auth_answer        TEXT    NOT NULL DEFAULT '',
    auto_download      INTEGER NOT NULL DEFAULT 0,
    group_confirm      INTEGER NOT NULL DEFAULT 0,
    no_push            INTEGER NOT NULL DEFAULT 0,
    no_push_detail     INTEGER NOT NULL DEFAULT 0,
    no_push_start_hour INTEGER NOT NULL DEFAULT 0,
    no_push_end_hour   INTEGER NOT NULL DEFAULT 0,
    no_sounds          INTEGER NOT NULL DEFAULT 0,
    vibratory          INTEGER NOT NULL DEFAULT 0,
    push_nick_name     TEXT    NOT NULL DEFAULT '',
    silence_start_time INTEGER NOT NULL DEFAULT 0,
    silence_end_time   INTEGER NOT NULL DEFAULT 0,
    push_alias         TEXT    NOT NULL DEFAULT '',
    push_badge         INTEGER NOT NULL DEFAULT 0,
    push_tags          TEXT    NOT NULL DEFAULT '[]',
    pinned             TEXT    NOT NULL DEFAULT '[]',
    created_at         INTEGER NOT NULL DEFAULT 0,
    updated_at         INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
) STRICT;
CREATE UNIQUE INDEX users_app_username_key ON users (app_id, username);
CREATE UNIQUE INDEX users_app_email_key ON users (app_id, email) WHERE email <> '';
CREATE UNIQUE INDEX users_app_mobile_key ON users (app_id, mobile) WHERE mobile <> '';

CREATE TABLE devices (
    app_id        TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    sn            INTEGER NOT NULL,
    guid          TEXT    NOT NULL DEFAULT '',
    platform      INTEGER NOT NULL DEFAULT 0,
    user_agent    TEXT    NOT NULL DEFAULT '',
    push_token    TEXT    NOT NULL DEFAULT '',
    notifier_name TEXT    NOT NULL DEFAULT '',
    device_token  TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL DEFAULT 0,
    last_login_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT devices_pkey PRIMARY KEY (app_id, user_id, sn),
    CONSTRAINT devices_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX devices_user_id_idx ON devices (user_id);
CREATE UNIQUE INDEX devices_user_guid_key ON devices (app_id, user_id, guid) WHERE guid <> '';

-- +goose Down
DROP TABLE devices;
DROP TABLE users;
DROP TABLE tokens;
DROP TABLE apps;
DROP TABLE ids;
DROP TABLE settings;
