-- RSL-6M: rsl.started must be followed by rsl.ended of the same person
-- within 6 months (same date; the last day of a month maps to the last
-- day of the target month; holiday rollover). Warning 15 days before.
SELECT 'RSL-6M' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 15 DAY THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 15 DAY THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (
  SELECT a.case_id, IF(a.nth = 1, a.person, CONCAT(a.person, '#', a.nth)) AS subject,
         TIMESTAMP(d.roll_to, '23:59:59') AS due,
         (SELECT MIN(b.at_local) FROM events b
          WHERE b.type = 'rsl.ended' AND b.case_id = a.case_id
            AND b.subject_ref = a.person
            AND b.at_local BETWEEN a.start AND @now) AS met
  FROM (SELECT case_id, at_local AS start, JSON_VALUE(body, '$.data.person') AS person,
               ROW_NUMBER() OVER (PARTITION BY case_id, JSON_VALUE(body, '$.data.person')
                                  ORDER BY at_local, seq) AS nth
        FROM events WHERE type = 'rsl.started' AND at_local <= @now) a
  JOIN legal_day d ON d.d = IF(DATE(a.start) = LAST_DAY(a.start),
                               LAST_DAY(DATE(a.start) + INTERVAL 6 MONTH),
                               DATE(a.start) + INTERVAL 6 MONTH)
) o
HAVING state IS NOT NULL;
