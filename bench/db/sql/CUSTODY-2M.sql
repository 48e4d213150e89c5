-- CUSTODY-2M: arrest.approved must be followed by case.transferred within
-- 2 months (same-date rule), plus the days of each case.extended with
-- limit custody made while it is open (one naming data.person counts for
-- that person only); custody: the last day never rolls over. Warning 7
-- days before. Subject: the person.

-- the obligations, with the first transfer at or after each
CREATE OR REPLACE TEMPORARY TABLE custody_2m (PRIMARY KEY (case_id, person, nth)) AS
SELECT a.case_id, a.person, a.nth, a.start,
       (SELECT MIN(b.at_local) FROM events b
        WHERE b.type = 'case.transferred' AND b.case_id = a.case_id
          AND b.at_local BETWEEN a.start AND @now) AS met
FROM (SELECT case_id, at_local AS start, subject_ref AS person,
             ROW_NUMBER() OVER (PARTITION BY case_id, subject_ref
                                ORDER BY at_local, seq) AS nth
      FROM events WHERE type = 'arrest.approved' AND at_local <= @now) a;

-- the days of the extensions each receives while open
CREATE OR REPLACE TEMPORARY TABLE custody_2m_ext (PRIMARY KEY (case_id, person, nth)) AS
SELECT o.case_id, o.person, o.nth, SUM(CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER)) AS days
FROM custody_2m o
JOIN events e ON e.type = 'case.extended' AND e.case_id = o.case_id
 AND JSON_VALUE(e.body, '$.data.limit') = 'custody'
 AND CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER) > 0
 AND COALESCE(JSON_VALUE(e.body, '$.data.person'), o.person) = o.person
 AND e.at_local >= o.start AND e.at_local <= @now
 AND (o.met IS NULL OR e.at_local < o.met)
GROUP BY o.case_id, o.person, o.nth;

SELECT 'CUSTODY-2M' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 7 DAY THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 7 DAY THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (SELECT o.case_id, IF(o.nth = 1, o.person, CONCAT(o.person, '#', o.nth)) AS subject, o.met,
             TIMESTAMP(IF(DATE(o.start) = LAST_DAY(o.start),
                          LAST_DAY(DATE(o.start) + INTERVAL 2 MONTH),
                          DATE(o.start) + INTERVAL 2 MONTH)
                       + INTERVAL COALESCE(x.days, 0) DAY, '23:59:59') AS due
      FROM custody_2m o
      LEFT JOIN custody_2m_ext x ON x.case_id = o.case_id AND x.person = o.person AND x.nth = o.nth) j
HAVING state IS NOT NULL;
