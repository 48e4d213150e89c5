-- The start of the batch: what several rules share. A rule with a case
-- kind judges a case by the data.kind of its first case.accepted in time
-- (docs/RULES.md); cases with no acceptance are not judged.
CREATE OR REPLACE TEMPORARY TABLE case_kind (PRIMARY KEY (case_id)) AS
SELECT case_id, kind
FROM (SELECT case_id, JSON_VALUE(body, '$.data.kind') AS kind,
             ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY at_local, seq) AS rn
      FROM events WHERE type = 'case.accepted' AND at_local <= @now) k
WHERE rn = 1;
