-- v4: Guest links and web sessions

-- A participant's link to their session. Only a hash of the link's token is kept; the token is
-- derived from the signing key, the participant and the generation, which a new link raises.
CREATE TABLE telehealth_guest_link (
    token_hash     TEXT    NOT NULL PRIMARY KEY,
    session_id     TEXT    NOT NULL REFERENCES telehealth_session (id) ON DELETE CASCADE,
    participant_id BIGINT  NOT NULL UNIQUE REFERENCES telehealth_participant (id) ON DELETE CASCADE,
    generation     INTEGER NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);

-- A signed-in web visitor: a clinician on the panel, a Matrix user on the call page, or a
-- one-time link not used yet. Only a hash of the token is kept.
CREATE TABLE telehealth_web_session (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    user_id    TEXT   NOT NULL,
    session_id TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX telehealth_web_session_expires_idx ON telehealth_web_session (expires_at);
