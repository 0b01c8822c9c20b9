-- v12 -> v13: Each web client's Matrix identity and Messages thread

-- ghost_id is the client's one ghost (@<ghost_prefix>client_<random>:<domain>), for a client
-- without a Matrix account of their own; messages_room is their Messages room. Both are ''
-- until the bridge first needs them, and each belongs to one record.
ALTER TABLE telehealth_client ADD COLUMN ghost_id TEXT NOT NULL DEFAULT '';
ALTER TABLE telehealth_client ADD COLUMN messages_room TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX telehealth_client_ghost_idx ON telehealth_client (ghost_id) WHERE ghost_id <> '';
CREATE UNIQUE INDEX telehealth_client_messages_room_idx ON telehealth_client (messages_room) WHERE messages_room <> '';

-- The bookkeeping of a client's Messages thread; the messages themselves stay on the
-- homeserver. unread counts the professionals' messages since the client last read the thread;
-- unread_since is when the first of them was sent (0: all read), from which the unread notice
-- waits; noticed says that notice has gone for this batch; notice_not_before holds it back
-- (SMS quiet hours, a retry). Times are Unix milliseconds, UTC.
CREATE TABLE telehealth_message_thread (
    client_id         BIGINT  NOT NULL PRIMARY KEY REFERENCES telehealth_client (id) ON DELETE CASCADE,
    unread            INTEGER NOT NULL DEFAULT 0,
    last_at           BIGINT  NOT NULL DEFAULT 0,
    unread_since      BIGINT  NOT NULL DEFAULT 0,
    noticed           BOOLEAN NOT NULL DEFAULT false,
    notice_not_before BIGINT  NOT NULL DEFAULT 0,
    read_at           BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX telehealth_message_thread_notice_idx ON telehealth_message_thread (unread_since) WHERE unread_since <> 0 AND noticed = false;
