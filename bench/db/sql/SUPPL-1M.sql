-- SUPPL-1M: case.returned must be followed by case.resubmitted within 1
-- month (same-date rule, holiday rollover); subject "round:N" (data.round,
-- else the count). A return numbered 3 or more, or a third return, is a
-- violation (subject "rounds") and starts no period. No warning.
WITH a AS (
  SELECT case_id, start, n, COALESCE(round, n) AS round
  FROM (SELECT case_id, at_local AS start,
               CAST(JSON_VALUE(body, '$.data.round') AS INTEGER) AS round,
               ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY at_local, seq) AS n
        FROM events WHERE type = 'case.returned' AND at_local <= @now) r),
judged AS (
  SELECT a.case_id, CONCAT('round:', a.round) AS subject,
         TIMESTAMP(d.roll_to, '23:59:59') AS due,
         (SELECT MIN(b.at_local) FROM events b
          WHERE b.type = 'case.resubmitted' AND b.case_id = a.case_id
            AND b.at_local BETWEEN a.start AND @now) AS met
  FROM a
  JOIN legal_day d ON d.d = IF(DATE(a.start) = LAST_DAY(a.start),
                               LAST_DAY(DATE(a.start) + INTERVAL 1 MONTH),
                               DATE(a.start) + INTERVAL 1 MONTH)
  WHERE a.round <= 2 AND a.n <= 2)
SELECT 'SUPPL-1M' AS rule, case_id, subject,
       IF(met IS NOT NULL, 'late', 'overdue') AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM judged
WHERE met > due OR (met IS NULL AND @now > due)
UNION ALL
SELECT DISTINCT 'SUPPL-1M', case_id, 'rounds', 'violation', '-'
FROM a WHERE a.round > 2 OR a.n > 2;
