-- ARREST-REQUEST: criminal_detention.started must be followed, for the
-- same person, by arrest.requested, bail.started or rsl.started within 3
-- days (custody: no rollover), plus the days of each case.extended with
-- limit arrest_request made while it is open (one naming data.person
-- counts for that person only), 7 days at most in all, 30 when the
-- detention is flagged roving, repeated or gang. The extension that goes
-- past is a violation (subject "extension:PERSON") and the period stops
-- at the cap. No warning. Subject: the person (P1#2 for a second one).

-- what meets them: one lookup table for the three event types
CREATE OR REPLACE TEMPORARY TABLE arrest_request_stop (KEY (case_id, person, at)) AS
SELECT case_id, subject_ref AS person, at_local AS at
FROM events
WHERE type IN ('arrest.requested', 'bail.started', 'rsl.started') AND at_local <= @now;

-- the obligations, with the first request, bail or surveillance at or after each
CREATE OR REPLACE TEMPORARY TABLE arrest_request (PRIMARY KEY (case_id, person, nth)) AS
SELECT a.case_id, a.person, a.nth, a.start, IF(a.flagged, 30, 7) AS cap,
       (SELECT MIN(b.at) FROM arrest_request_stop b
        WHERE b.case_id = a.case_id AND b.person = a.person AND b.at >= a.start) AS met
FROM (SELECT case_id, at_local AS start, subject_ref AS person,
             COALESCE(JSON_OVERLAPS(JSON_EXTRACT(body, '$.data.flags'),
                                    '["roving", "repeated", "gang"]'), 0) AS flagged,
             ROW_NUMBER() OVER (PARTITION BY case_id, subject_ref
                                ORDER BY at_local, seq) AS nth
      FROM events WHERE type = 'criminal_detention.started' AND at_local <= @now) a;

-- the extensions each receives while open: the days, and whether the
-- running total went past the cap at some point
CREATE OR REPLACE TEMPORARY TABLE arrest_request_ext (PRIMARY KEY (case_id, person, nth)) AS
SELECT case_id, person, nth, MAX(total) AS days, MAX(3 + total > cap) AS breach
FROM (SELECT o.case_id, o.person, o.nth, o.cap,
             SUM(CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER))
               OVER (PARTITION BY o.case_id, o.person, o.nth ORDER BY e.at_local, e.seq) AS total
      FROM arrest_request o
      JOIN events e ON e.type = 'case.extended' AND e.case_id = o.case_id
       AND JSON_VALUE(e.body, '$.data.limit') = 'arrest_request'
       AND CAST(JSON_VALUE(e.body, '$.data.days') AS INTEGER) > 0
       AND COALESCE(JSON_VALUE(e.body, '$.data.person'), o.person) = o.person
       AND e.at_local >= o.start AND e.at_local <= @now
       AND (o.met IS NULL OR e.at_local < o.met)) t
GROUP BY case_id, person, nth;

SELECT 'ARREST-REQUEST' AS rule, case_id, subject,
       IF(met IS NOT NULL, 'late', 'overdue') AS state,
       DATE_FORMAT(due, '%Y-%m-%dT%H:%i:%s+08:00') AS due
FROM (SELECT o.case_id, IF(o.nth = 1, o.person, CONCAT(o.person, '#', o.nth)) AS subject, o.met,
             TIMESTAMP(DATE(o.start) + INTERVAL LEAST(o.cap, 3 + COALESCE(x.days, 0)) DAY,
                       '23:59:59') AS due
      FROM arrest_request o
      LEFT JOIN arrest_request_ext x
        ON x.case_id = o.case_id AND x.person = o.person AND x.nth = o.nth) j
WHERE met > due OR (met IS NULL AND @now > due)
UNION ALL
SELECT DISTINCT 'ARREST-REQUEST', case_id, CONCAT('extension:', person), 'violation', '-'
FROM arrest_request_ext WHERE breach;
