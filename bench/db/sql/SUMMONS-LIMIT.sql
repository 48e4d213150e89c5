-- SUMMONS-LIMIT: in an administrative case, summons.started must be
-- followed by summons.ended of the same person within 8 h; 24 h when
-- complex and detention_possible, else 12 h when many_involved or
-- identity_unknown. Warning 1 h before. Subject: the person (P1#2 for
-- their second summons).
WITH obl AS (
  SELECT a.case_id, IF(a.nth = 1, a.person, CONCAT(a.person, '#', a.nth)) AS subject,
         a.start + INTERVAL a.hours HOUR AS due,
         (SELECT MIN(b.at_local) FROM events b
          WHERE b.type = 'summons.ended' AND b.case_id = a.case_id
            AND b.subject_ref = a.person
            AND b.at_local BETWEEN a.start AND @now) AS met
  FROM (SELECT e.case_id, e.at_local AS start, JSON_VALUE(e.body, '$.data.person') AS person,
               CASE WHEN JSON_EXTRACT(e.body, '$.data.complex') = 'true'
                     AND JSON_EXTRACT(e.body, '$.data.detention_possible') = 'true' THEN 24
                    WHEN JSON_EXTRACT(e.body, '$.data.many_involved') = 'true'
                      OR JSON_EXTRACT(e.body, '$.data.identity_unknown') = 'true' THEN 12
                    ELSE 8 END AS hours,
               ROW_NUMBER() OVER (PARTITION BY e.case_id, JSON_VALUE(e.body, '$.data.person')
                                  ORDER BY e.at_local, e.seq) AS nth
        FROM events e JOIN case_kind k ON k.case_id = e.case_id AND k.kind = 'administrative'
        WHERE e.type = 'summons.started' AND e.at_local <= @now) a)
SELECT 'SUMMONS-LIMIT' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 1 HOUR THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 1 HOUR THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM obl
HAVING state IS NOT NULL;
