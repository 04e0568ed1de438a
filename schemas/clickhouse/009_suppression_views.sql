-- Suppressed means "covered by a suppression that is active now", decided at
-- query time, not only when a version is written (007 left anomalies_open on
-- the stamp alone, so removing or expiring a suppression never brought back
-- an open anomaly it hid, and adding one never silenced the open anomalies
-- that prompted it: no new version comes for either).
--
-- anomalies_current gains `suppressed` (1/0): the anomaly's stamped
-- suppressed_by is a suppression still active, or an active suppression of
-- its kind names its card, merchant, terminal or issuer. suppressed_by stays
-- the history (which suppression covered the version when it was written).
-- anomalies_open and anomalies_labelled read `suppressed`, so every view,
-- query and panel uses this one definition (docs/analysts-tools.md).
--
-- CREATE OR REPLACE VIEW: plain views hold no data; re-running is harmless.

CREATE OR REPLACE VIEW anomalies_current AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence, suppressed_by,
    toUInt8(
        (suppressed_by != '' AND suppressed_by IN (SELECT suppression_id FROM suppressions_current WHERE active))
        OR (kind, 'card', card_token) IN (SELECT kind, scope, value FROM suppressions_current WHERE active)
        OR (kind, 'merchant', merchant_id) IN (SELECT kind, scope, value FROM suppressions_current WHERE active)
        OR (kind, 'terminal', terminal_id) IN (SELECT kind, scope, value FROM suppressions_current WHERE active)
        OR (kind, 'issuer', issuer_id) IN (SELECT kind, scope, value FROM suppressions_current WHERE active)
    ) AS suppressed
FROM anomalies_latest FINAL;

-- What still needs work: the current state is OPEN and no active suppression covers it.
CREATE OR REPLACE VIEW anomalies_open AS
SELECT *
FROM anomalies_current
WHERE status = 'OPEN' AND suppressed = 0;

CREATE OR REPLACE VIEW anomalies_labelled AS
SELECT
    c.anomaly_id AS anomaly_id, c.version AS version, c.kind AS kind, c.cause AS cause, c.status AS status,
    c.severity AS severity, c.event_time AS event_time, c.detected_at AS detected_at,
    c.terminal_id AS terminal_id, c.merchant_id AS merchant_id, c.card_token AS card_token, c.rrn AS rrn,
    c.stan AS stan, c.issuer_id AS issuer_id, c.amount_minor AS amount_minor, c.currency AS currency,
    c.related_rrns AS related_rrns, c.evidence AS evidence,
    c.suppressed_by AS suppressed_by, c.suppressed AS suppressed,
    l.label AS label, l.note AS label_note, l.labelled_by AS labelled_by,
    if(l.anomaly_id = '', NULL, l.labelled_at) AS labelled_at
FROM anomalies_current AS c
LEFT JOIN anomaly_labels_latest AS l ON l.anomaly_id = c.anomaly_id;
