-- v0 -> v1: Latest revision

-- Matrix events the bridge has handled. The homeserver may deliver an event again (a retried
-- transaction, or after a restart); a row here makes the second delivery a no-op.
CREATE TABLE telehealth_handled_event (
    event_id   TEXT   NOT NULL PRIMARY KEY,
    room_id    TEXT   NOT NULL,
    handled_at BIGINT NOT NULL
);
CREATE INDEX telehealth_handled_event_at_idx ON telehealth_handled_event (handled_at);

-- A clinician's direct room with the bot.
CREATE TABLE telehealth_control_room (
    clinician  TEXT   NOT NULL PRIMARY KEY,
    room_id    TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
