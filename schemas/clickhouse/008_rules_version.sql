-- The rules each anomaly version was decided under (posguard case shows them).
--
-- rules_version: first 12 hex digits of the SHA-256 of the rules' canonical
-- JSON (src/config/rules-version.ts); rules: that JSON, every window and
-- threshold with defaults filled in. One value per rules set, so
-- LowCardinality stores each set once per part.
--
-- Backwards compatible: rows written before this migration, or by a writer
-- that does not stamp rules, read as '' ("not recorded"); anomalies_latest and
-- its view are unchanged (their column lists are explicit).

ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS rules_version LowCardinality(String) DEFAULT '';

ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS rules LowCardinality(String) DEFAULT '' CODEC(ZSTD(3));
