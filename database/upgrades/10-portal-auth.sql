-- v9 -> v10: Portal sign-in: passkeys, passwords, one-time codes and portal sessions

-- Everything here is keyed by the client record's ID (client_id). Secrets are never stored as
-- they are: tokens and codes by keyed hash, passwords by argon2id. Times are Unix milliseconds,
-- UTC.

-- A client's passkey (a WebAuthn credential). credential_id and public_key are base64url, as
-- the browser gives them; sign_count is the authenticator's counter, checked to detect a
-- cloned authenticator; transports is a comma-separated list ("internal,hybrid").
CREATE TABLE telehealth_portal_credential (
    credential_id   TEXT    NOT NULL PRIMARY KEY,
    client_id       BIGINT  NOT NULL,
    public_key      TEXT    NOT NULL,
    aaguid          TEXT    NOT NULL DEFAULT '',
    sign_count      BIGINT  NOT NULL DEFAULT 0,
    transports      TEXT    NOT NULL DEFAULT '',
    backup_eligible BOOLEAN NOT NULL DEFAULT false,
    backup_state    BOOLEAN NOT NULL DEFAULT false,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX telehealth_portal_credential_client_idx ON telehealth_portal_credential (client_id);

-- A client's password, for those who cannot use a passkey: an argon2id hash in the PHC string
-- format ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so the parameters can be raised later.
CREATE TABLE telehealth_portal_password (
    client_id  BIGINT NOT NULL PRIMARY KEY,
    hash       TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A one-time code sent by email or SMS, or an enrolment link. lookup is a keyed hash of the
-- purpose and the contact (a code) or of the link's token (a link): at most one live code per
-- contact and purpose. client_id is 0 when the contact matched no client, so that the answers
-- do not tell known contacts from unknown ones. code_hash is a keyed hash of the code; attempts
-- counts wrong guesses, and the code is dead after the limit.
CREATE TABLE telehealth_portal_code (
    lookup     TEXT    NOT NULL PRIMARY KEY,
    client_id  BIGINT  NOT NULL,
    purpose    TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX telehealth_portal_code_expires_idx ON telehealth_portal_code (expires_at);

-- A client signed in to the portal, by the hash of the cookie's token. idle_expires_at moves
-- with activity; expires_at is the absolute end, fixed at sign-in.
CREATE TABLE telehealth_portal_session (
    token_hash      TEXT   NOT NULL PRIMARY KEY,
    client_id       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX telehealth_portal_session_client_idx ON telehealth_portal_session (client_id);
CREATE INDEX telehealth_portal_session_expires_idx ON telehealth_portal_session (expires_at);
