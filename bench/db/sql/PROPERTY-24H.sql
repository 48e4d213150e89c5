-- PROPERTY-24H: evidence.seized must be followed by evidence.stored of the
-- same item within 24 h. No warning. Subject: the item.
SELECT 'PROPERTY-24H' AS rule, case_id, subject,
       IF(met IS NOT NULL, 'late', 'overdue') AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (
  SELECT a.case_id, IF(a.nth = 1, a.item, CONCAT(a.item, '#', a.nth)) AS subject,
         a.start + INTERVAL 24 HOUR AS due,
         (SELECT MIN(b.at_local) FROM events b
          WHERE b.type = 'evidence.stored' AND b.case_id = a.case_id
            AND b.subject_ref = a.item
            AND b.at_local BETWEEN a.start AND @now) AS met
  FROM (SELECT case_id, at_local AS start, JSON_VALUE(body, '$.data.item') AS item,
               ROW_NUMBER() OVER (PARTITION BY case_id, JSON_VALUE(body, '$.data.item')
                                  ORDER BY at_local, seq) AS nth
        FROM events WHERE type = 'evidence.seized' AND at_local <= @now) a
) o
WHERE met > due OR (met IS NULL AND @now > due);
