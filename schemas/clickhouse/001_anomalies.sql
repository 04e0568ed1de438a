-- Anomalies: every version of every anomaly, plus its current state.
--
-- `anomalies` keeps the full history: one row per (anomaly_id, version). The
-- sorting key ends in `version`, so ReplacingMergeTree only collapses exact
-- re-deliveries of one version (a retried batch, a replayed input) and never
-- folds history away. `anomalies_latest` is the same data keyed by anomaly_id
-- alone with ReplacingMergeTree(version): after FINAL it holds exactly one row,
-- the highest version, per anomaly. `anomalies_current` is that FINAL query.
--
-- anomalies_latest is deliberately not partitioned: background merges never
-- combine parts of different partitions, and an anomaly's event_time may move
-- between versions (a late, earlier debit for the same rrn); FINAL would still
-- show one row, but the superseded one would stay on disk for good. Anomalies
-- are rare next to events, so one partition is cheap.

CREATE TABLE IF NOT EXISTS anomalies
(
    anomaly_id    String,
    version       UInt32,
    kind          LowCardinality(String),
    cause         LowCardinality(Nullable(String)),
    status        LowCardinality(String),
    severity      LowCardinality(String),
    event_time    DateTime64(3, 'UTC'),
    detected_at   DateTime64(3, 'UTC'),
    terminal_id   Nullable(String),
    merchant_id   Nullable(String),
    card_token    Nullable(String),
    rrn           Nullable(String),
    stan          Nullable(String),
    issuer_id     LowCardinality(Nullable(String)),
    amount_minor  Nullable(Int64),
    currency      LowCardinality(Nullable(String)),
    related_rrns  Array(String),
    evidence      String CODEC(ZSTD(3)),
    inserted_at   DateTime('UTC') DEFAULT now(),
    INDEX idx_rrn rrn TYPE bloom_filter GRANULARITY 4,
    INDEX idx_card card_token TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (kind, anomaly_id, version)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS anomalies_latest
(
    anomaly_id    String,
    version       UInt32,
    kind          LowCardinality(String),
    cause         LowCardinality(Nullable(String)),
    status        LowCardinality(String),
    severity      LowCardinality(String),
    event_time    DateTime64(3, 'UTC'),
    detected_at   DateTime64(3, 'UTC'),
    terminal_id   Nullable(String),
    merchant_id   Nullable(String),
    card_token    Nullable(String),
    rrn           Nullable(String),
    stan          Nullable(String),
    issuer_id     LowCardinality(Nullable(String)),
    amount_minor  Nullable(Int64),
    currency      LowCardinality(Nullable(String)),
    related_rrns  Array(String),
    evidence      String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY anomaly_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS anomalies_latest_mv TO anomalies_latest AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence
FROM anomalies;

-- Each anomaly's current state: its highest version, exactly one row per anomaly.
CREATE VIEW IF NOT EXISTS anomalies_current AS
SELECT
    anomaly_id, version, kind, cause, status, severity, event_time, detected_at,
    terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency,
    related_rrns, evidence
FROM anomalies_latest FINAL;
