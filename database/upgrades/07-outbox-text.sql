-- v6 -> v7: Clinicians' own text messages in the outbox

-- A text message a clinician writes to a participant (!sms, the panel) travels through the
-- outbox like the other notifications. Its text is kept only until it is sent, fails or is
-- dropped: the sender then empties it, so the database keeps no message bodies.
ALTER TABLE telehealth_outbox ADD COLUMN body TEXT NOT NULL DEFAULT '';
