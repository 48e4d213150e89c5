-- CRIM-SUMMONS: in a criminal case, summons.started must be followed by
-- summons.ended of the same person within 12 h, 24 h when
-- detention_possible. No warning. Subject: the person.
WITH obl AS (
  SELECT a.case_id, IF(a.nth = 1, a.person, CONCAT(a.person, '#', a.nth)) AS subject,
         a.start + INTERVAL a.hours HOUR AS due,
         (SELECT MIN(b.at_local) FROM events b
          WHERE b.type = 'summons.ended' AND b.case_id = a.case_id
            AND b.subject_ref = a.person
            AND b.at_local BETWEEN a.start AND @now) AS met
  FROM (SELECT e.case_id, e.at_local AS start, JSON_VALUE(e.body, '$.data.person') AS person,
               IF(JSON_EXTRACT(e.body, '$.data.detention_possible') = 'true', 24, 12) AS hours,
               ROW_NUMBER() OVER (PARTITION BY e.case_id, JSON_VALUE(e.body, '$.data.person')
                                  ORDER BY e.at_local, e.seq) AS nth
        FROM events e JOIN case_kind k ON k.case_id = e.case_id AND k.kind = 'criminal'
        WHERE e.type = 'summons.started' AND e.at_local <= @now) a)
SELECT 'CRIM-SUMMONS' AS rule, case_id, subject,
       IF(met IS NOT NULL, 'late', 'overdue') AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM obl
WHERE met > due OR (met IS NULL AND @now > due);
