-- v11 -> v12: Clients' requests to move a session, from the portal

-- A client's request to move one of their sessions: the start times they would take (a JSON
-- list of Unix milliseconds, UTC, soonest first; at most three), for the clinician to choose
-- from. One per participant: a new request replaces the previous one. revision is the
-- session's when asked: a session moved since has answered it. The request holds no reason:
-- the portal asks for none.
CREATE TABLE telehealth_move_request (
    session_id     TEXT   NOT NULL REFERENCES telehealth_session (id) ON DELETE CASCADE,
    participant_id BIGINT NOT NULL REFERENCES telehealth_participant (id) ON DELETE CASCADE,
    client_id      BIGINT NOT NULL,
    preferred      TEXT   NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (session_id, participant_id)
);
