-- What a DBA adds to the casewarden schema before reporting on it with
-- SQL: typed access to the event fields the deadline queries search on,
-- as virtual columns (MariaDB's way to index an expression), indexes for
-- the lookups they make, and the legal calendar as a table. Run once,
-- not part of the timed batch; bench/db/run.sh reports how long it took.
--
-- at_local: the event's `at` in the deployment's time zone (+08:00), with
-- the fraction of a second dropped: events come with +08:00, +09:00,
-- +00:00 or Z, and days are counted at +08:00 (DOMAIN.md). MariaDB cannot
-- index it (a string-to-time conversion depends on connection settings),
-- so the index is on (type, case_id, subject_ref): every lookup names the
-- type and the case, most the subject, and the time is filtered after.
-- subject_ref: what an event is about inside its case, data.person,
-- data.item or data.ref (no event type has two of them): the deadline
-- queries look up "the same person" or "the same item" in a case.
-- alarm_ref: data.alarm, which links an acceptance to an alarm of
-- another case (ALARM-ACCEPT).
ALTER TABLE events
  ADD COLUMN IF NOT EXISTS at_local DATETIME AS (
      CONVERT_TZ(CAST(LEFT(JSON_VALUE(body, '$.at'), 19) AS DATETIME),
                 IF(RIGHT(JSON_VALUE(body, '$.at'), 1) = 'Z', '+00:00', RIGHT(JSON_VALUE(body, '$.at'), 6)),
                 '+08:00')) VIRTUAL,
  ADD COLUMN IF NOT EXISTS subject_ref VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
      AS (COALESCE(JSON_VALUE(body, '$.data.person'), JSON_VALUE(body, '$.data.item'),
                   JSON_VALUE(body, '$.data.ref'))) VIRTUAL,
  ADD COLUMN IF NOT EXISTS alarm_ref VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
      AS (JSON_VALUE(body, '$.data.alarm')) VIRTUAL,
  ADD INDEX IF NOT EXISTS events_type_case (type, case_id, subject_ref),
  ADD INDEX IF NOT EXISTS events_alarm (alarm_ref);
-- and statistics for the optimizer over the new indexes
ANALYZE TABLE events PERSISTENT FOR ALL;

-- The legal calendar: rules/calendar/*.yaml, one row per day that is not
-- what its weekday says (a statutory holiday, or a make-up working day).
-- bench/db/run.sh loads it (bench/db/calendar.awk), then calendar.sql
-- builds the day table.
CREATE OR REPLACE TABLE calendar_override (
  day DATE NOT NULL PRIMARY KEY,
  kind ENUM('holiday', 'workday') NOT NULL
) ENGINE=InnoDB;
