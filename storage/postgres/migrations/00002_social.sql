-- +goose Up
-- An app's group limits; 0 takes the default that imgate.AppLimits names.
ALTER TABLE apps
    ADD COLUMN group_capacity         INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN groups_per_app         INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN groups_owned_per_user  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN groups_joined_per_user INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN kicks_before_bar       INTEGER NOT NULL DEFAULT 0;

-- The key that the tables with an app_id reference, so that a row can only
-- name a user of its own app.
ALTER TABLE users ADD CONSTRAINT users_app_id_key UNIQUE (app_id, id);

-- One user's (owner's) view of another; friendship is kept on both sides.
CREATE TABLE roster_items (
    app_id     TEXT    NOT NULL,
    owner_id   BIGINT  NOT NULL,
    user_id    BIGINT  NOT NULL,
    friend     BOOLEAN NOT NULL DEFAULT FALSE,
    was_friend BOOLEAN NOT NULL DEFAULT FALSE,
    blocked    BOOLEAN NOT NULL DEFAULT FALSE,
    alias      TEXT    NOT NULL DEFAULT '',
    ext        TEXT    NOT NULL DEFAULT '',
    muted      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL DEFAULT 0,
    updated_at BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT roster_items_pkey PRIMARY KEY (app_id, owner_id, user_id),
    CONSTRAINT roster_items_owner_fkey FOREIGN KEY (app_id, owner_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT roster_items_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE
);
CREATE INDEX roster_items_user_idx ON roster_items (app_id, user_id);

CREATE TABLE roster_applications (
    app_id       TEXT    NOT NULL,
    applicant_id BIGINT  NOT NULL,
    target_id    BIGINT  NOT NULL,
    alias        TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL DEFAULT '',
    status       INTEGER NOT NULL DEFAULT 0,
    expires_at   BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL DEFAULT 0,
    updated_at   BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT roster_applications_pkey PRIMARY KEY (app_id, applicant_id, target_id),
    CONSTRAINT roster_applications_applicant_fkey FOREIGN KEY (app_id, applicant_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT roster_applications_target_fkey FOREIGN KEY (app_id, target_id) REFERENCES users (app_id, id) ON DELETE CASCADE
);
CREATE INDEX roster_applications_target_idx ON roster_applications (app_id, target_id, created_at, applicant_id);

-- Groups take their ids from the ids sequence users take theirs from. The
-- member count is not kept here but counted from group_members, so that
-- the cascade of a deleted user cannot leave it stale; member_seq is the
-- last Seq handed to a member.
CREATE TABLE groups (
    id               BIGINT  NOT NULL,
    app_id           TEXT    NOT NULL,
    name             TEXT    NOT NULL DEFAULT '',
    avatar           TEXT    NOT NULL DEFAULT '',
    description      TEXT    NOT NULL DEFAULT '',
    ext              TEXT    NOT NULL DEFAULT '',
    owner_id         BIGINT  NOT NULL DEFAULT 0,
    type             INTEGER NOT NULL DEFAULT 0,
    capacity         INTEGER NOT NULL DEFAULT 0,
    apply_approval   INTEGER NOT NULL DEFAULT 0,
    member_invite    BOOLEAN NOT NULL DEFAULT FALSE,
    member_modify    BOOLEAN NOT NULL DEFAULT FALSE,
    read_ack         BOOLEAN NOT NULL DEFAULT FALSE,
    history_visible  BOOLEAN NOT NULL DEFAULT FALSE,
    hide_member_info BOOLEAN NOT NULL DEFAULT FALSE,
    ban_all_expire   BIGINT  NOT NULL DEFAULT 0,
    member_seq       BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL DEFAULT 0,
    updated_at       BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
);
CREATE INDEX groups_app_owner_idx ON groups (app_id, owner_id);
CREATE INDEX groups_app_type_idx ON groups (app_id, type, id);

CREATE TABLE group_members (
    group_id     BIGINT  NOT NULL,
    user_id      BIGINT  NOT NULL,
    seq          BIGINT  NOT NULL,
    role         INTEGER NOT NULL DEFAULT 0,
    display_name TEXT    NOT NULL DEFAULT '',
    joined_at    BIGINT  NOT NULL DEFAULT 0,
    ban_expire   BIGINT  NOT NULL DEFAULT 0,
    mute_mode    INTEGER NOT NULL DEFAULT 0,
    push_mode    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_members_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_members_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX group_members_seq_key ON group_members (group_id, seq);
CREATE INDEX group_members_user_idx ON group_members (user_id, group_id);

CREATE TABLE group_blocks (
    group_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT group_blocks_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_blocks_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_blocks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX group_blocks_user_idx ON group_blocks (user_id);

CREATE TABLE group_kicks (
    group_id BIGINT  NOT NULL,
    user_id  BIGINT  NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_kicks_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_kicks_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_kicks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX group_kicks_user_idx ON group_kicks (user_id);

CREATE TABLE group_applications (
    group_id     BIGINT  NOT NULL,
    applicant_id BIGINT  NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    status       INTEGER NOT NULL DEFAULT 0,
    expires_at   BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL DEFAULT 0,
    updated_at   BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT group_applications_pkey PRIMARY KEY (group_id, applicant_id),
    CONSTRAINT group_applications_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_applications_applicant_id_fkey FOREIGN KEY (applicant_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX group_applications_applicant_idx ON group_applications (applicant_id);

CREATE TABLE group_invitations (
    group_id   BIGINT  NOT NULL,
    invitee_id BIGINT  NOT NULL,
    inviter_id BIGINT  NOT NULL DEFAULT 0,
    reason     TEXT    NOT NULL DEFAULT '',
    status     INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL DEFAULT 0,
    updated_at BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT group_invitations_pkey PRIMARY KEY (group_id, invitee_id),
    CONSTRAINT group_invitations_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_invitations_invitee_id_fkey FOREIGN KEY (invitee_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX group_invitations_invitee_idx ON group_invitations (invitee_id, group_id);

CREATE TABLE group_announcements (
    id         BIGINT GENERATED ALWAYS AS IDENTITY,
    group_id   BIGINT NOT NULL,
    title      TEXT   NOT NULL DEFAULT '',
    content    TEXT   NOT NULL DEFAULT '',
    author_id  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT group_announcements_pkey PRIMARY KEY (id),
    CONSTRAINT group_announcements_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
);
CREATE INDEX group_announcements_group_idx ON group_announcements (group_id, created_at);

CREATE TABLE group_files (
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    group_id    BIGINT NOT NULL,
    name        TEXT   NOT NULL DEFAULT '',
    size        BIGINT NOT NULL DEFAULT 0,
    type        TEXT   NOT NULL DEFAULT '',
    url         TEXT   NOT NULL DEFAULT '',
    uploader_id BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT group_files_pkey PRIMARY KEY (id),
    CONSTRAINT group_files_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
);
CREATE INDEX group_files_group_idx ON group_files (group_id, created_at);

-- The last notice Seq of each recipient. Writers bump it in their
-- transaction, so writers to one recipient take turns on its row and a
-- Seq commits in the order it was handed out.
CREATE TABLE notice_seqs (
    app_id  TEXT   NOT NULL,
    user_id BIGINT NOT NULL,
    last    BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT notice_seqs_pkey PRIMARY KEY (app_id, user_id),
    CONSTRAINT notice_seqs_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE
);

-- Notices reference their recipient's counter row, which the writing
-- transaction holds already, rather than the users row.
CREATE TABLE notices (
    app_id   TEXT    NOT NULL,
    user_id  BIGINT  NOT NULL,
    seq      BIGINT  NOT NULL,
    kind     INTEGER NOT NULL,
    type     INTEGER NOT NULL,
    from_id  BIGINT  NOT NULL DEFAULT 0,
    group_id BIGINT  NOT NULL DEFAULT 0,
    to_ids   TEXT    NOT NULL DEFAULT '[]',
    content  TEXT    NOT NULL DEFAULT '',
    at       BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT notices_pkey PRIMARY KEY (app_id, user_id, seq),
    CONSTRAINT notices_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES notice_seqs (app_id, user_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE notices;
DROP TABLE notice_seqs;
DROP TABLE group_files;
DROP TABLE group_announcements;
DROP TABLE group_invitations;
DROP TABLE group_applications;
DROP TABLE group_kicks;
DROP TABLE group_blocks;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE roster_applications;
DROP TABLE roster_items;
ALTER TABLE users DROP CONSTRAINT users_app_id_key;
ALTER TABLE apps
    DROP COLUMN group_capacity,
    DROP COLUMN groups_per_app,
    DROP COLUMN groups_owned_per_user,
    DROP COLUMN groups_joined_per_user,
    DROP COLUMN kicks_before_bar;
