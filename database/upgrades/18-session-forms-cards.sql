-- v17 -> v18: Forms in a session's package, insurance card images as documents

-- The session whose package gave the form to the client ('' for a form assigned on its own):
-- its page lists the form and its lobby shows whether it is done.
ALTER TABLE telehealth_form_assignment ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX telehealth_form_assignment_session_idx ON telehealth_form_assignment (session_id) WHERE session_id <> '';

-- What a document is: '' for a file a professional shared, 'insurance_card' for a picture of
-- an insurance card the client uploaded from their portal (Payment & Insurances).
ALTER TABLE telehealth_document ADD COLUMN kind TEXT NOT NULL DEFAULT '';
