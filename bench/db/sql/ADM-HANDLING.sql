-- ADM-HANDLING: an administrative case.accepted must be followed by
-- case.decided or case.closed within 30 days (holiday rollover), plus the
-- days of each case.extended with limit handling made while it is open,
-- two of them at most: a third is a violation (subject "extension") and
-- is not applied. Warning 5 days before.

-- the obligations, with the first decision or closure at or after each
CREATE OR REPLACE TEMPORARY TABLE adm_handling (PRIMARY KEY (case_id, nth)) AS
SELECT a.case_id, a.nth, a.start,
       (SELECT MIN(b.at_local) FROM events b
        WHERE b.type IN ('case.decided', 'case.closed') AND b.case_id = a.case_id
          AND b.at_local BETWEEN a.start AND @now) AS met
FROM (SELECT case_id, at_local AS start,
             ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY at_local, seq) AS nth
      FROM events
      WHERE type = 'case.accepted' AND at_local <= @now
        AND JSON_VALUE(body, '$.data.kind') = 'administrative') a
JOIN case_kind k ON k.case_id = a.case_id AND k.kind = 'administrative';

-- the extensions each receives while open: the days of the first two,
-- and whether there was a third
CREATE OR REPLACE TEMPORARY TABLE adm_handling_ext (PRIMARY KEY (case_id, nth)) AS
SELECT case_id, nth, SUM(IF(k <= 2, days, 0)) AS days, MAX(k > 2) AS breach
FROM (SELECT o.case_id, o.nth, CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER) AS days,
             ROW_NUMBER() OVER (PARTITION BY o.case_id, o.nth ORDER BY e.at_local, e.seq) AS k
      FROM adm_handling o
      JOIN events e ON e.type = 'case.extended' AND e.case_id = o.case_id
       AND JSON_VALUE(e.body, '$.data.limit') = 'handling'
       AND CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER) > 0
       AND e.at_local >= o.start AND e.at_local <= @now
       AND (o.met IS NULL OR e.at_local < o.met)) t
GROUP BY case_id, nth;

SELECT 'ADM-HANDLING' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 5 DAY THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 5 DAY THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (SELECT o.case_id, IF(o.nth = 1, '', CONCAT('#', o.nth)) AS subject, o.met,
             TIMESTAMP(d.roll_to, '23:59:59') AS due
      FROM adm_handling o
      LEFT JOIN adm_handling_ext x ON x.case_id = o.case_id AND x.nth = o.nth
      JOIN legal_day d ON d.d = DATE(o.start) + INTERVAL 30 + COALESCE(x.days, 0) DAY) j
HAVING state IS NOT NULL
UNION ALL
SELECT DISTINCT 'ADM-HANDLING', case_id, 'extension', 'violation', '-'
FROM adm_handling_ext WHERE breach;
