-- Per-minute aggregates for dashboards, maintained by materialized views.
--
-- Counts and amounts are kept as idempotent states: a count is the number of
-- distinct ids (uniqExact), an amount is the sum over distinct ids of that
-- id's amount (maxMap keyed by id, summed when read). Writing the same row
-- twice -- a retried batch that slipped past deduplication, or a replay of the
-- same input in differently cut batches -- therefore changes no figure. A
-- plain SummingMergeTree would count such a row twice. Ids enter the states as
-- cityHash64 (computed once per row, 8 bytes instead of a string); a collision
-- within one minute's bucket of one terminal is not a practical concern.
--
-- anomalies_1m counts version 1 rows only: "new anomalies per minute", by the
-- minute of the triggering event and the kind/cause as first detected. Later
-- versions (status or cause changes) are not new anomalies; the current status
-- of each anomaly is in anomalies_current. Read through the *_per_minute views,
-- which finalize the states. State columns are named apart from the source
-- columns on purpose: in a materialized view's SELECT an alias equal to a
-- source column would shadow it in the other expressions.

CREATE TABLE IF NOT EXISTS anomalies_1m
(
    minute        DateTime('UTC'),
    kind          LowCardinality(String),
    cause         LowCardinality(String),
    issuer_id     LowCardinality(String),
    merchant_id   String,
    terminal_id   String,
    currency      LowCardinality(String),
    anomalies     AggregateFunction(uniqExact, UInt64),
    amount        AggregateFunction(maxMap, Array(UInt64), Array(Int64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (minute, kind, cause, issuer_id, merchant_id, terminal_id, currency)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS anomalies_1m_mv TO anomalies_1m AS
WITH cityHash64(anomaly_id) AS id_hash
SELECT
    toStartOfMinute(event_time) AS minute,
    kind,
    ifNull(cause, '') AS cause,
    ifNull(issuer_id, '') AS issuer_id,
    ifNull(merchant_id, '') AS merchant_id,
    ifNull(terminal_id, '') AS terminal_id,
    ifNull(currency, '') AS currency,
    uniqExactState(id_hash) AS anomalies,
    maxMapState([id_hash], [ifNull(amount_minor, toInt64(0))]) AS amount
FROM anomalies
WHERE version = 1
GROUP BY minute, kind, cause, issuer_id, merchant_id, terminal_id, currency;

CREATE VIEW IF NOT EXISTS anomalies_per_minute AS
SELECT
    minute, kind, cause, issuer_id, merchant_id, terminal_id, currency,
    uniqExactMerge(anomalies) AS anomalies,
    arraySum((maxMapMerge(amount)).2) AS amount_minor
FROM anomalies_1m
GROUP BY minute, kind, cause, issuer_id, merchant_id, terminal_id, currency;

-- Attempts per minute (by txn_time), issuer, merchant, terminal, type and
-- currency (the bank's, else the gateway's, else the terminal's).
CREATE TABLE IF NOT EXISTS transactions_1m
(
    minute            DateTime('UTC'),
    issuer_id         LowCardinality(String),
    merchant_id       String,
    terminal_id       String,
    txn_type          LowCardinality(String),
    currency          LowCardinality(String),
    attempts          AggregateFunction(uniqExact, UInt64),
    succeeded         AggregateFunction(uniqExactIf, UInt64, UInt8),
    failed            AggregateFunction(uniqExactIf, UInt64, UInt8),
    no_outcome        AggregateFunction(uniqExactIf, UInt64, UInt8),
    issuer_timeouts   AggregateFunction(uniqExactIf, UInt64, UInt8),
    debits            AggregateFunction(uniqExactIf, UInt64, UInt8),
    reversals         AggregateFunction(uniqExactIf, UInt64, UInt8),
    with_anomaly      AggregateFunction(uniqExactIf, UInt64, UInt8),
    requested_amount  AggregateFunction(maxMap, Array(UInt64), Array(Int64)),
    debited_amount    AggregateFunction(maxMapIf, Array(UInt64), Array(Int64), UInt8),
    reversed_amount   AggregateFunction(maxMapIf, Array(UInt64), Array(Int64), UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (minute, issuer_id, merchant_id, terminal_id, txn_type, currency)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS transactions_1m_mv TO transactions_1m AS
WITH cityHash64(txn_key) AS key_hash
SELECT
    toStartOfMinute(txn_time) AS minute,
    ifNull(issuer_id, '') AS issuer_id,
    ifNull(merchant_id, '') AS merchant_id,
    ifNull(terminal_id, '') AS terminal_id,
    ifNull(txn_type, '') AS txn_type,
    ifNull(coalesce(bank_currency, gateway_currency, terminal_currency), '') AS currency,
    uniqExactState(key_hash) AS attempts,
    uniqExactIfState(key_hash, toUInt8(terminal_outcome = 'SUCCESS')) AS succeeded,
    uniqExactIfState(key_hash, toUInt8(terminal_outcome = 'FAILED')) AS failed,
    uniqExactIfState(key_hash, toUInt8(terminal_outcome = 'NONE')) AS no_outcome,
    uniqExactIfState(key_hash, toUInt8(issuer_timeout)) AS issuer_timeouts,
    uniqExactIfState(key_hash, toUInt8(debited)) AS debits,
    uniqExactIfState(key_hash, toUInt8(reversed)) AS reversals,
    uniqExactIfState(key_hash, toUInt8(notEmpty(anomaly_ids))) AS with_anomaly,
    maxMapState([key_hash], [ifNull(coalesce(terminal_amount_minor, gateway_amount_minor, bank_amount_minor), toInt64(0))]) AS requested_amount,
    maxMapIfState([key_hash], [ifNull(bank_amount_minor, toInt64(0))], toUInt8(debited)) AS debited_amount,
    maxMapIfState([key_hash], [ifNull(bank_amount_minor, toInt64(0))], toUInt8(debited AND reversed)) AS reversed_amount
FROM transactions
GROUP BY minute, issuer_id, merchant_id, terminal_id, txn_type, currency;

CREATE VIEW IF NOT EXISTS transactions_per_minute AS
SELECT
    minute, issuer_id, merchant_id, terminal_id, txn_type, currency,
    uniqExactMerge(attempts) AS attempts,
    uniqExactIfMerge(succeeded) AS succeeded,
    uniqExactIfMerge(failed) AS failed,
    uniqExactIfMerge(no_outcome) AS no_outcome,
    uniqExactIfMerge(issuer_timeouts) AS issuer_timeouts,
    uniqExactIfMerge(debits) AS debits,
    uniqExactIfMerge(reversals) AS reversals,
    uniqExactIfMerge(with_anomaly) AS with_anomaly,
    arraySum((maxMapMerge(requested_amount)).2) AS requested_amount,
    arraySum((maxMapIfMerge(debited_amount)).2) AS debited_amount,
    arraySum((maxMapIfMerge(reversed_amount)).2) AS reversed_amount
FROM transactions_1m
GROUP BY minute, issuer_id, merchant_id, terminal_id, txn_type, currency;
