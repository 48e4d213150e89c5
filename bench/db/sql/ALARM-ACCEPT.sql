-- ALARM-ACCEPT: a criminal or administrative alarm.received must be
-- followed within 24 h by a case.accepted (in any case) whose data.alarm
-- names it; warning 4 h before. The finding is on the alarm's record,
-- subject the alarm id; the earliest acceptance counts.
SELECT 'ALARM-ACCEPT' AS rule, case_id, subject,
       CASE WHEN met > due THEN 'late'
            WHEN met >= due - INTERVAL 4 HOUR THEN 'cleared'
            WHEN met IS NULL AND @now > due THEN 'overdue'
            WHEN met IS NULL AND @now >= due - INTERVAL 4 HOUR THEN 'warning' END AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (
  SELECT a.case_id,
         IF(a.nth = 1, a.alarm, CONCAT(a.alarm, '#', a.nth)) AS subject,
         a.at_local + INTERVAL 24 HOUR AS due,
         GREATEST(a.at_local,
                  (SELECT MIN(b.at_local) FROM events b
                   WHERE b.alarm_ref = a.alarm AND b.type = 'case.accepted'
                     AND b.at_local <= @now)) AS met
  FROM (SELECT case_id, at_local, alarm_ref AS alarm,
               ROW_NUMBER() OVER (PARTITION BY case_id, alarm_ref ORDER BY at_local, seq) AS nth
        FROM events
        WHERE type = 'alarm.received' AND at_local <= @now
          AND JSON_VALUE(body, '$.data.category') IN ('criminal', 'administrative')) a
) o
HAVING state IS NOT NULL;
