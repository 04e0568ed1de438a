-- feed_gaps (../shared/spec/feeds.md): the streams of an anomaly's partition
-- that were stalled and released (no longer holding the watermark) when that
-- version was decided, sorted terminal, gateway, bank. Empty: decided on
-- complete input. An orphan with ['terminal'] was decided without the
-- terminal feed: its cause may change, or it may be RETRACTED, when the
-- feed's backlog arrives (docs/storage.md, docs/queries.md).
--
-- Array(LowCardinality(String)): at most three values out of three, stored
-- once per part. Backwards compatible: rows written before this migration,
-- or by a writer that does not send the column, read as [] (DEFAULT []).
--
-- anomalies_latest gets the column too and anomalies_latest_mv is dropped and
-- re-created to carry it (as 007 did for suppressed_by: a materialized view's
-- query cannot be altered on 23.8 without an experimental setting). The
-- current-state views are re-created with the column; their definitions are
-- otherwise 009's. Migrations run before the detector writes; every statement
-- is re-runnable, so a run that dies half-way applies the file again.

ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS feed_gaps Array(LowCardinality(String)) DEFAULT [] AFTER suppressed_by;

ALTER TABLE anomalies_latest ADD COLUMN IF NOT EXISTS feed_gaps Array(LowCardinality(String)) DEFAULT [] AFTER suppressed_by;

DROP VIEW IF EXISTS anomalies_latest_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS anomalies_latest_mv TO anomalies_latest AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence, suppressed_by, feed_gaps
FROM anomalies;

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
    ) AS suppressed,
    feed_gaps
FROM anomalies_latest FINAL;

-- Re-created so that `*` takes in the new column.
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
    c.suppressed_by AS suppressed_by, c.suppressed AS suppressed, c.feed_gaps AS feed_gaps,
    l.label AS label, l.note AS label_note, l.labelled_by AS labelled_by,
    if(l.anomaly_id = '', NULL, l.labelled_at) AS labelled_at
FROM anomalies_current AS c
LEFT JOIN anomaly_labels_latest AS l ON l.anomaly_id = c.anomaly_id;
