-- One row per attempt (terminal_id, stan), written once the engine has closed
-- its windows: the per-transaction "golden record" analysts query most.
--
-- txn_key is deterministic (terminal:stan[:rrn]) and `version` grows when late
-- evidence changes a closed attempt, so ReplacingMergeTree(version) keeps the
-- latest version of each attempt (a replay writes the same key and version
-- again); `FROM transactions FINAL` shows exactly one row per attempt. txn_time is the attempt's
-- time on the most trustworthy clock that saw it: the gateway's
-- REQUEST_RECEIVED, else the bank's authorization, else the terminal's first
-- event (terminal clocks drift up to 5 minutes). It drives the daily partition.

CREATE TABLE IF NOT EXISTS transactions
(
    txn_key                     String,
    version                     UInt32,
    txn_time                    DateTime64(3, 'UTC'),
    terminal_id                 Nullable(String),
    merchant_id                 Nullable(String),
    stan                        Nullable(String),
    rrn                         Nullable(String),
    issuer_id                   LowCardinality(Nullable(String)),
    network                     LowCardinality(Nullable(String)),
    card_token                  Nullable(String),
    masked_pan                  Nullable(String),
    txn_type                    LowCardinality(Nullable(String)),
    entry_mode                  LowCardinality(Nullable(String)),
    terminal_amount_minor       Nullable(Int64),
    terminal_currency           LowCardinality(Nullable(String)),
    gateway_amount_minor        Nullable(Int64),
    gateway_currency            LowCardinality(Nullable(String)),
    bank_amount_minor           Nullable(Int64),
    bank_currency               LowCardinality(Nullable(String)),
    terminal_started_at         Nullable(DateTime64(3, 'UTC')),
    terminal_request_at         Nullable(DateTime64(3, 'UTC')),
    terminal_response_at        Nullable(DateTime64(3, 'UTC')),
    terminal_final_at           Nullable(DateTime64(3, 'UTC')),
    gateway_received_at         Nullable(DateTime64(3, 'UTC')),
    gateway_forwarded_at        Nullable(DateTime64(3, 'UTC')),
    gateway_issuer_response_at  Nullable(DateTime64(3, 'UTC')),
    gateway_response_sent_at    Nullable(DateTime64(3, 'UTC')),
    bank_auth_at                Nullable(DateTime64(3, 'UTC')),
    bank_reversal_at            Nullable(DateTime64(3, 'UTC')),
    terminal_outcome            LowCardinality(String),
    terminal_response_code      LowCardinality(Nullable(String)),
    failure_reason              LowCardinality(Nullable(String)),
    issuer_response_code        LowCardinality(Nullable(String)),
    gateway_response_code       LowCardinality(Nullable(String)),
    bank_response_code          LowCardinality(Nullable(String)),
    issuer_timeout              Bool,
    debited                     Bool,
    reversed                    Bool,
    gateway_latency_ms          Nullable(Int64),
    issuer_latency_ms           Nullable(Int64),
    anomaly_ids                 Array(String),
    anomaly_kinds               Array(LowCardinality(String)),
    inserted_at                 DateTime('UTC') DEFAULT now(),
    INDEX idx_rrn rrn TYPE bloom_filter GRANULARITY 4,
    INDEX idx_card card_token TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(txn_time)
ORDER BY txn_key
SETTINGS non_replicated_deduplication_window = 1000;
