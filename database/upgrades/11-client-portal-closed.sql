-- v10 -> v11: Client portals closed by the clinic

-- portal_closed: a clinician closed the client's portal on the panel. No sign-in (not even by a
-- one-time code) opens it until a clinician enables it again. A record whose portal was never
-- opened is not closed: its client may still sign in by code, as before.
ALTER TABLE telehealth_client ADD COLUMN portal_closed BOOLEAN NOT NULL DEFAULT false;
