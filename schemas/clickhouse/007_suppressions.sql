-- Suppressions (`posguard suppress`): an analyst silences what is expected for
-- one card, merchant, terminal or issuer and one anomaly kind, until a time,
-- with a reason. Append-only like the labels: `add` creates one, `remove`
-- appends a tombstone row with the same suppression_id (who removed it, when,
-- why), so who created and who removed a suppression is never lost.
-- suppressions_current folds them into one row per suppression; `active` is
-- "not removed and not expired" at query time.
--
-- A suppressed anomaly is still written: the detector stamps it with
-- suppressed_by = the suppression's id ('' when none applies), reloading the
-- active suppressions periodically (docs/analysts-tools.md). anomalies_open is
-- what still needs work: OPEN and not suppressed. Money at risk in suppressed
-- orphans is reported apart, never dropped (docs/queries.md).
--
-- anomalies_latest_mv is dropped and re-created to carry the new column: a
-- materialized view's query cannot be altered on 23.8 without an experimental
-- setting. Migrations run before the detector writes; both statements are
-- re-runnable, so a run that dies between them re-creates the view.

CREATE TABLE IF NOT EXISTS suppressions
(
    suppression_id  String,
    action          LowCardinality(String),
    kind            LowCardinality(String),
    scope           LowCardinality(String),
    value           String,
    until           DateTime64(3, 'UTC'),
    reason          String,
    changed_by      String,
    changed_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (suppression_id, changed_at);

CREATE VIEW IF NOT EXISTS suppressions_current AS
SELECT
    suppression_id,
    tupleElement(added, 1) AS kind,
    tupleElement(added, 2) AS scope,
    tupleElement(added, 3) AS value,
    tupleElement(added, 4) AS until,
    tupleElement(added, 5) AS reason,
    tupleElement(added, 6) AS created_by,
    tupleElement(added, 7) AS created_at,
    removes > 0 AS removed,
    if(removes > 0, tupleElement(removal, 2), NULL) AS removed_by,
    if(removes > 0, tupleElement(removal, 3), NULL) AS removed_at,
    if(removes > 0, tupleElement(removal, 1), NULL) AS removal_reason,
    removes = 0 AND tupleElement(added, 4) > now64(3) AS active
FROM
(
    SELECT
        suppression_id,
        argMinIf((kind, scope, value, until, reason, changed_by, changed_at), changed_at, action = 'add') AS added,
        argMinIf((reason, changed_by, changed_at), changed_at, action = 'remove') AS removal,
        countIf(action = 'add') AS adds,
        countIf(action = 'remove') AS removes
    FROM suppressions
    GROUP BY suppression_id
)
WHERE adds > 0;

ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS suppressed_by String DEFAULT '' AFTER evidence;

ALTER TABLE anomalies_latest ADD COLUMN IF NOT EXISTS suppressed_by String DEFAULT '' AFTER evidence;

DROP VIEW IF EXISTS anomalies_latest_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS anomalies_latest_mv TO anomalies_latest AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence, suppressed_by
FROM anomalies;

CREATE OR REPLACE VIEW anomalies_current AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence, suppressed_by
FROM anomalies_latest FINAL;

-- What still needs work: the current state is OPEN and no suppression applied.
CREATE VIEW IF NOT EXISTS anomalies_open AS
SELECT *
FROM anomalies_current
WHERE status = 'OPEN' AND suppressed_by = '';

-- anomalies_current plus the latest label (006): label '' and labelled_at NULL
-- when there is none.
CREATE VIEW IF NOT EXISTS anomalies_labelled AS
SELECT
    c.anomaly_id AS anomaly_id, c.version AS version, c.kind AS kind, c.cause AS cause, c.status AS status,
    c.severity AS severity, c.event_time AS event_time, c.detected_at AS detected_at,
    c.terminal_id AS terminal_id, c.merchant_id AS merchant_id, c.card_token AS card_token, c.rrn AS rrn,
    c.stan AS stan, c.issuer_id AS issuer_id, c.amount_minor AS amount_minor, c.currency AS currency,
    c.related_rrns AS related_rrns, c.evidence AS evidence,
    c.suppressed_by AS suppressed_by,
    l.label AS label, l.note AS label_note, l.labelled_by AS labelled_by,
    if(l.anomaly_id = '', NULL, l.labelled_at) AS labelled_at
FROM anomalies_current AS c
LEFT JOIN anomaly_labels_latest AS l ON l.anomaly_id = c.anomaly_id;
