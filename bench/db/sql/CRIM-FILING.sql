-- CRIM-FILING: a criminal case.accepted must be followed by case.filed or
-- case.not_filed within 3 days (holiday rollover), plus the days of every
-- case.extended with limit filing_review made while it is open, 30 days
-- at most in all: the extension that goes past is a violation (subject
-- "extension") and the period stops at 30. Warning 1 day before.

-- the obligations, with the first decision at or after each
CREATE OR REPLACE TEMPORARY TABLE crim_filing (PRIMARY KEY (case_id, nth)) AS
SELECT a.case_id, a.nth, a.start,
       (SELECT MIN(b.at_local) FROM events b
        WHERE b.type IN ('case.filed', 'case.not_filed') AND b.case_id = a.case_id
          AND b.at_local BETWEEN a.start AND @now) AS met
FROM (SELECT case_id, at_local AS start,
             ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY at_local, seq) AS nth
      FROM events
      WHERE type = 'case.accepted' AND at_local <= @now
        AND JSON_VALUE(body, '$.data.kind') = 'criminal') a
JOIN case_kind k ON k.case_id = a.case_id AND k.kind = 'criminal';

-- the extensions each receives while open: the days and whether the
-- running total went past 30 days at some point
CREATE OR REPLACE TEMPORARY TABLE crim_filing_ext (PRIMARY KEY (case_id, nth)) AS
SELECT case_id, nth, MAX(total) AS days, MAX(3 + total > 30) AS breach
FROM (SELECT o.case_id, o.nth,
             SUM(CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER))
               OVER (PARTITION BY o.case_id, o.nth ORDER BY e.at_local, e.seq) AS total
      FROM crim_filing o
      JOIN events e ON e.type = 'case.extended' AND e.case_id = o.case_id
       AND JSON_VALUE(e.body, '$.data.limit') = 'filing_review'
       AND CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER) > 0
       AND e.at_local >= o.start AND e.at_local <= @now
       AND (o.met IS NULL OR e.at_local < o.met)) t
GROUP BY case_id, nth;

SELECT 'CRIM-FILING' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 1 DAY THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 1 DAY THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (SELECT o.case_id, IF(o.nth = 1, '', CONCAT('#', o.nth)) AS subject, o.met,
             TIMESTAMP(d.roll_to, '23:59:59') AS due
      FROM crim_filing o
      LEFT JOIN crim_filing_ext x ON x.case_id = o.case_id AND x.nth = o.nth
      JOIN legal_day d ON d.d = DATE(o.start) + INTERVAL LEAST(30, 3 + COALESCE(x.days, 0)) DAY) j
HAVING state IS NOT NULL
UNION ALL
SELECT DISTINCT 'CRIM-FILING', case_id, 'extension', 'violation', '-'
FROM crim_filing_ext WHERE breach;
