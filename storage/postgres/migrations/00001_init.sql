-- +goose Up
-- Kept values of the server itself, such as the token-signing secret.
CREATE TABLE settings (
    key   TEXT  NOT NULL,
    value BYTEA NOT NULL,
    CONSTRAINT settings_pkey PRIMARY KEY (key)
);

-- The one sequence of user and group ids: a conversation id names either,
-- so the two must never collide. It starts high so ids never look like
-- small counters.
CREATE SEQUENCE ids START WITH 100000000;

CREATE TABLE apps (
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    status     INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT apps_pkey PRIMARY KEY (id)
);

CREATE TABLE tokens (
    id          TEXT    NOT NULL,
    app_id      TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    user_id     BIGINT  NOT NULL DEFAULT 0,
    device_guid TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL DEFAULT 0,
    expires_at  BIGINT  NOT NULL DEFAULT 0,
    revoked_at  BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT tokens_pkey PRIMARY KEY (id),
    CONSTRAINT tokens_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
);
CREATE INDEX tokens_app_user_idx ON tokens (app_id, user_id);
CREATE INDEX tokens_expires_idx ON tokens (expires_at) WHERE expires_at <> 0;

CREATE TABLE users (
    id                 BIGINT  NOT NULL,
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
    auto_download      BOOLEAN NOT NULL DEFAULT FALSE,
    group_confirm      BOOLEAN NOT NULL DEFAULT FALSE,
    no_push            BOOLEAN NOT NULL DEFAULT FALSE,
    no_push_detail     BOOLEAN NOT NULL DEFAULT FALSE,
    no_push_start_hour INTEGER NOT NULL DEFAULT 0,
    no_push_end_hour   INTEGER NOT NULL DEFAULT 0,
    no_sounds          BOOLEAN NOT NULL DEFAULT FALSE,
    vibratory          BOOLEAN NOT NULL DEFAULT FALSE,
    push_nick_name     TEXT    NOT NULL DEFAULT '',
    silence_start_time INTEGER NOT NULL DEFAULT 0,
    silence_end_time   INTEGER NOT NULL DEFAULT 0,
    push_alias         TEXT    NOT NULL DEFAULT '',
    push_badge         INTEGER NOT NULL DEFAULT 0,
    push_tags          TEXT    NOT NULL DEFAULT '[]',
    pinned             TEXT    NOT NULL DEFAULT '[]',
    created_at         BIGINT  NOT NULL DEFAULT 0,
    updated_at         BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
);
CREATE UNIQUE INDEX users_app_username_key ON users (app_id, username);
CREATE UNIQUE INDEX users_app_email_key ON users (app_id, email) WHERE email <> '';
CREATE UNIQUE INDEX users_app_mobile_key ON users (app_id, mobile) WHERE mobile <> '';

CREATE TABLE devices (
    app_id        TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL,
    sn            BIGINT  NOT NULL,
    guid          TEXT    NOT NULL DEFAULT '',
    platform      INTEGER NOT NULL DEFAULT 0,
    user_agent    TEXT    NOT NULL DEFAULT '',
    push_token    TEXT    NOT NULL DEFAULT '',
    notifier_name TEXT    NOT NULL DEFAULT '',
    device_token  TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL DEFAULT 0,
    last_login_at BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT devices_pkey PRIMARY KEY (app_id, user_id, sn),
    CONSTRAINT devices_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX devices_user_id_idx ON devices (user_id);
CREATE UNIQUE INDEX devices_user_guid_key ON devices (app_id, user_id, guid) WHERE guid <> '';

-- +goose Down
DROP TABLE devices;
DROP TABLE users;
DROP TABLE tokens;
DROP TABLE apps;
DROP SEQUENCE ids;
DROP TABLE settings;
