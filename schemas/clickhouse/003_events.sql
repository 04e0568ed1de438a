-- The three input streams as received, for evidence lookups, and the events
-- that arrived after the watermark (late data, kept for forensics).
--
-- A redelivered event carries the same event_id and the same fields, hence the
-- same sorting key: ReplacingMergeTree keeps one copy, FINAL shows one.
-- `payload` is the validated event as JSON, exactly the contract's fields.
-- events_raw expires {{events_raw_ttl_days}} days after it was written (not
-- after event_time, so replaying an old data set keeps its evidence around);
-- change it with `posguard migrate --raw-ttl-days N` or the ALTER in
-- docs/storage.md. ttl_only_drop_parts: whole daily parts are dropped, no rewrites.

CREATE TABLE IF NOT EXISTS events_raw
(
    stream        LowCardinality(String),
    source        LowCardinality(String),
    source_partition Nullable(UInt32),
    source_offset Nullable(UInt64),
    source_line   Nullable(UInt64),
    event_id      String,
    event_time    DateTime64(3, 'UTC'),
    event_type    LowCardinality(String),
    terminal_id   String,
    merchant_id   String,
    stan          String,
    rrn           Nullable(String),
    payload       String CODEC(ZSTD(3)),
    inserted_at   DateTime('UTC') DEFAULT now(),
    INDEX idx_rrn rrn TYPE bloom_filter GRANULARITY 4,
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (terminal_id, stream, event_time, event_id)
TTL inserted_at + INTERVAL {{events_raw_ttl_days}} DAY
SETTINGS non_replicated_deduplication_window = 1000, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS late_events
(
    stream        LowCardinality(String),
    source        LowCardinality(String),
    source_partition Nullable(UInt32),
    source_offset Nullable(UInt64),
    source_line   Nullable(UInt64),
    event_id      String,
    event_time    DateTime64(3, 'UTC'),
    event_type    LowCardinality(String),
    terminal_id   String,
    merchant_id   String,
    stan          String,
    rrn           Nullable(String),
    payload       String CODEC(ZSTD(3)),
    inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (terminal_id, stream, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
