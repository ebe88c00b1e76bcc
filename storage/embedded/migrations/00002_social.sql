-- +goose Up
-- An app's group limits; 0 takes the default that imgate.AppLimits names.
ALTER TABLE apps ADD COLUMN group_capacity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN groups_per_app INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN groups_owned_per_user INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN groups_joined_per_user INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN kicks_before_bar INTEGER NOT NULL DEFAULT 0;

-- The key that the tables with an app_id reference, so that a row can only
-- name a user of its own app.
CREATE UNIQUE INDEX users_app_id_key ON users (app_id, id);

-- One user's (owner's) view of another; friendship is kept on both sides.
CREATE TABLE roster_items (
    app_id     TEXT    NOT NULL,
    owner_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    friend     INTEGER NOT NULL DEFAULT 0,
    was_friend INTEGER NOT NULL DEFAULT 0,
    blocked    INTEGER NOT NULL DEFAULT 0,
    alias      TEXT    NOT NULL DEFAULT '',
    ext        TEXT    NOT NULL DEFAULT '',
    muted      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT roster_items_pkey PRIMARY KEY (app_id, owner_id, user_id),
    CONSTRAINT roster_items_owner_fkey FOREIGN KEY (app_id, owner_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT roster_items_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX roster_items_user_idx ON roster_items (app_id, user_id);

CREATE TABLE roster_applications (
    app_id       TEXT    NOT NULL,
    applicant_id INTEGER NOT NULL,
    target_id    INTEGER NOT NULL,
    alias        TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL DEFAULT '',
    status       INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT roster_applications_pkey PRIMARY KEY (app_id, applicant_id, target_id),
    CONSTRAINT roster_applications_applicant_fkey FOREIGN KEY (app_id, applicant_id) REFERENCES users (app_id, id) ON DELETE CASCADE,
    CONSTRAINT roster_applications_target_fkey FOREIGN KEY (app_id, target_id) REFERENCES users (app_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX roster_applications_target_idx ON roster_applications (app_id, target_id, created_at, applicant_id);

-- Groups take their ids from the ids sequence users take theirs from. The
-- member count is not kept here but counted from group_members, so that
-- the cascade of a deleted user cannot leave it stale; member_seq is the
-- last Seq handed to a member.
CREATE TABLE groups (
    id               INTEGER NOT NULL,
    app_id           TEXT    NOT NULL,
    name             TEXT    NOT NULL DEFAULT '',
    avatar           TEXT    NOT NULL DEFAULT '',
    description      TEXT    NOT NULL DEFAULT '',
    ext              TEXT    NOT NULL DEFAULT '',
    owner_id         INTEGER NOT NULL DEFAULT 0,
    type             INTEGER NOT NULL DEFAULT 0,
    capacity         INTEGER NOT NULL DEFAULT 0,
    apply_approval   INTEGER NOT NULL DEFAULT 0,
    member_invite    INTEGER NOT NULL DEFAULT 0,
    member_modify    INTEGER NOT NULL DEFAULT 0,
    read_ack         INTEGER NOT NULL DEFAULT 0,
    history_visible  INTEGER NOT NULL DEFAULT 0,
    hide_member_info INTEGER NOT NULL DEFAULT 0,
    ban_all_expire   INTEGER NOT NULL DEFAULT 0,
    member_seq       INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id)
) STRICT;
CREATE INDEX groups_app_owner_idx ON groups (app_id, owner_id);
CREATE INDEX groups_app_type_idx ON groups (app_id, type, id);

CREATE TABLE group_members (
    group_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    role         INTEGER NOT NULL DEFAULT 0,
    display_name TEXT    NOT NULL DEFAULT '',
    joined_at    INTEGER NOT NULL DEFAULT 0,
    ban_expire   INTEGER NOT NULL DEFAULT 0,
    mute_mode    INTEGER NOT NULL DEFAULT 0,
    push_mode    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_members_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_members_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX group_members_seq_key ON group_members (group_id, seq);
CREATE INDEX group_members_user_idx ON group_members (user_id, group_id);

CREATE TABLE group_blocks (
    group_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_blocks_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_blocks_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_blocks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_blocks_user_idx ON group_blocks (user_id);

CREATE TABLE group_kicks (
    group_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_kicks_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_kicks_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_kicks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_kicks_user_idx ON group_kicks (user_id);

CREATE TABLE group_applications (
    group_id     INTEGER NOT NULL,
    applicant_id INTEGER NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    status       INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_applications_pkey PRIMARY KEY (group_id, applicant_id),
    CONSTRAINT group_applications_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_applications_applicant_id_fkey FOREIGN KEY (applicant_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_applications_applicant_idx ON group_applications (applicant_id);

CREATE TABLE group_invitations (
    group_id   INTEGER NOT NULL,
    invitee_id INTEGER NOT NULL,
    inviter_id INTEGER NOT NULL DEFAULT 0,
    reason     TEXT    NOT NULL DEFAULT '',
    status     INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_invitations_pkey PRIMARY KEY (group_id, invitee_id),
    CONSTRAINT group_invitations_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT group_invitations_invitee_id_fkey FOREIGN KEY (invitee_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_invitations_invitee_idx ON group_invitations (invitee_id, group_id);

CREATE TABLE group_announcements (
    id         INTEGER NOT NULL CONSTRAINT group_announcements_pkey PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER NOT NULL,
    title      TEXT    NOT NULL DEFAULT '',
    content    TEXT    NOT NULL DEFAULT '',
    author_id  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_announcements_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_announcements_group_idx ON group_announcements (group_id, created_at);

CREATE TABLE group_files (
    id          INTEGER NOT NULL CONSTRAINT group_files_pkey PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    size        INTEGER NOT NULL DEFAULT 0,
    type        TEXT    NOT NULL DEFAULT '',
    url         TEXT    NOT NULL DEFAULT '',
    uploader_id INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT group_files_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_files_group_idx ON group_files (group_id, created_at);

-- The last notice Seq of each recipient, bumped by the transaction that
-- writes the notices; writers are serialised, so a Seq commits in the
-- order it was handed out.
CREATE TABLE notice_seqs (
    app_id  TEXT    NOT NULL,
    user_id INTEGER NOT NULL,
    last    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT notice_seqs_pkey PRIMARY KEY (app_id, user_id),
    CONSTRAINT notice_seqs_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES users (app_id, id) ON DELETE CASCADE
) STRICT;

-- Notices reference their recipient's counter row, as on PostgreSQL.
CREATE TABLE notices (
    app_id   TEXT    NOT NULL,
    user_id  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    kind     INTEGER NOT NULL,
    type     INTEGER NOT NULL,
    from_id  INTEGER NOT NULL DEFAULT 0,
    group_id INTEGER NOT NULL DEFAULT 0,
    to_ids   TEXT    NOT NULL DEFAULT '[]',
    content  TEXT    NOT NULL DEFAULT '',
    at       INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT notices_pkey PRIMARY KEY (app_id, user_id, seq),
    CONSTRAINT notices_user_fkey FOREIGN KEY (app_id, user_id) REFERENCES notice_seqs (app_id, user_id) ON DELETE CASCADE
) STRICT;

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
DROP INDEX users_app_id_key;
ALTER TABLE apps DROP COLUMN group_capacity;
ALTER TABLE apps DROP COLUMN groups_per_app;
ALTER TABLE apps DROP COLUMN groups_owned_per_user;
ALTER TABLE apps DROP COLUMN groups_joined_per_user;
ALTER TABLE apps DROP COLUMN kicks_before_bar;
