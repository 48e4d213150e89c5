-- The legal calendar as a day table, built from calendar_override (loaded
-- from rules/calendar/*.yaml after schema.sql). Run once, with it.
-- One row per day of 2020-2030: whether it is a working day, and the
-- first working day on or after it (where a period ending on it rolls
-- over to). Years without a calendar file count weekends only.
CREATE OR REPLACE TABLE legal_day (
  d DATE NOT NULL PRIMARY KEY,
  workday BOOL NOT NULL,
  roll_to DATE NOT NULL
) ENGINE=InnoDB;
INSERT INTO legal_day (d, workday, roll_to)
SELECT d, workday,
       MIN(IF(workday, d, NULL)) OVER (ORDER BY d ROWS BETWEEN CURRENT ROW AND 20 FOLLOWING)
FROM (SELECT DATE '2020-01-01' + INTERVAL s.seq DAY AS d,
             COALESCE(o.kind = 'workday', WEEKDAY(DATE '2020-01-01' + INTERVAL s.seq DAY) < 5) AS workday
      FROM seq_0_to_4017 s
      LEFT JOIN calendar_override o ON o.day = DATE '2020-01-01' + INTERVAL s.seq DAY) days;
