-- Records that could not be accepted, with the reason and where they came from.
-- payload is PAN-scrubbed before it gets here. dead_letter_id is a hash of
-- everything but the wall-clock time, so a replay of the same bad input is one
-- row after FINAL. Not partitioned: dead letters are few, and received_at (a
-- wall clock) differs between replays, so it must not split copies apart.

CREATE TABLE IF NOT EXISTS dead_letters
(
    dead_letter_id  String,
    source          LowCardinality(String),
    stream          LowCardinality(Nullable(String)),
    source_partition Nullable(UInt32),
    source_offset   Nullable(UInt64),
    source_line     Nullable(UInt64),
    reason          String,
    payload         String CODEC(ZSTD(3)),
    received_at     DateTime64(3, 'UTC'),
    inserted_at     DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (source, dead_letter_id)
SETTINGS non_replicated_deduplication_window = 1000;
