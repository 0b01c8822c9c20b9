-- v5 -> v6: Tamper-evident audit trail

-- Who did what, when, to which session: every admission decision, sign-in, link and access to a
-- session's participant data (HIPAA 164.312(b)). Rows form a hash chain: hash is the SHA-256 of
-- prev_hash (the previous row's hash, '' for the first) and this row's fields in a canonical
-- encoding (see database/audit.go), so an edited, removed or reordered row breaks the chain at
-- that row. detail is canonical JSON kept as TEXT: a JSON column type would re-encode it and
-- change what was hashed. Rows are only ever inserted: triggers refuse UPDATE and DELETE.
CREATE TABLE telehealth_audit (
    id         BIGINT NOT NULL PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    session_id TEXT   NOT NULL DEFAULT '',
    subject    TEXT   NOT NULL DEFAULT '',
    detail     TEXT   NOT NULL DEFAULT '{}',
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL
);
CREATE INDEX telehealth_audit_at_idx ON telehealth_audit (at);
CREATE INDEX telehealth_audit_session_idx ON telehealth_audit (session_id);

-- only: sqlite until "end only"
CREATE TRIGGER telehealth_audit_no_update BEFORE UPDATE ON telehealth_audit
BEGIN
    SELECT RAISE(ABORT, 'telehealth_audit is append-only');
END;
CREATE TRIGGER telehealth_audit_no_delete BEFORE DELETE ON telehealth_audit
BEGIN
    SELECT RAISE(ABORT, 'telehealth_audit is append-only');
END;
-- end only sqlite

-- only: postgres until "end only"
CREATE FUNCTION telehealth_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'telehealth_audit is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER telehealth_audit_no_update BEFORE UPDATE OR DELETE ON telehealth_audit
    FOR EACH ROW EXECUTE FUNCTION telehealth_audit_append_only();
CREATE TRIGGER telehealth_audit_no_truncate BEFORE TRUNCATE ON telehealth_audit
    FOR EACH STATEMENT EXECUTE FUNCTION telehealth_audit_append_only();
-- end only postgres
