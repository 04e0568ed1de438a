-- Analysts' verdicts on anomalies (`posguard label`): confirmed, false_positive
-- or expected, with a note, who and when. Append-only: a new label is a new
-- row, nothing is ever updated in place, so the history of every verdict
-- stays (who changed their mind, and when). The latest label per anomaly is
-- anomaly_labels_latest (argMax by labelled_at); anomalies_labelled, created
-- in 007 once anomalies carry suppressed_by, is anomalies_current with it
-- joined on (label '' = not labelled yet).
-- labelled_by is the OS user running the CLI on the embedded engine, or the
-- ClickHouse user of CLICKHOUSE_URL on a server.

CREATE TABLE IF NOT EXISTS anomaly_labels
(
    anomaly_id   String,
    label        LowCardinality(String),
    note         String,
    labelled_by  String,
    labelled_at  DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (anomaly_id, labelled_at);

-- One row per labelled anomaly: its latest label, and how many it has had.
-- The latest row is taken whole (one argMax over a tuple), so label, note and
-- who always come from the same row.
CREATE VIEW IF NOT EXISTS anomaly_labels_latest AS
SELECT
    anomaly_id,
    tupleElement(latest, 1) AS label,
    tupleElement(latest, 2) AS note,
    tupleElement(latest, 3) AS labelled_by,
    tupleElement(latest, 4) AS labelled_at,
    label_count
FROM
(
    SELECT anomaly_id, argMax((label, note, labelled_by, labelled_at), labelled_at) AS latest, count() AS label_count
    FROM anomaly_labels
    GROUP BY anomaly_id
);
