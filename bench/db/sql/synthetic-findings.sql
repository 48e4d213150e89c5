-- Synthetic findings for the GET /v1/findings measurements of
-- bench/db/api.sh: rows of realistic shape written straight into the
-- findings table, 100,000 per run of the last statement, numbered from
-- @from + 1 (set it before). The mix of rules and states is roughly the
-- one `casewarden eval` gives on bench/gen's feed (the rules of
-- DOMAIN.md, their severities, subjects and states); units are weighted
-- as bench/gen weights them; raised and due spread over 2025-2026; one
-- finding per case, so that (rule, case_id, subject) stays unique.

CREATE OR REPLACE TEMPORARY TABLE rule_w (
  rule VARCHAR(64) CHARACTER SET ascii, severity VARCHAR(8), letter CHAR(1),
  subject VARCHAR(16), kind ENUM('lead', 'nolead', 'fixed', 'anomaly'), w INT,
  message VARCHAR(200));
INSERT INTO rule_w VALUES
  ('SUMMONS-LIMIT', 'high', 'A', 'P1', 'lead', 14, '行政传唤询问查证超时: 传唤到案 2026-05-10 09:00, 期限 8 小时'),
  ('BODYCAM-24H', 'medium', 'S', 'R1', 'nolead', 10, '执法记录仪视音频未在24小时内上传: 现场执法 2026-05-10 09:00, 期限 24 小时'),
  ('ADM-HANDLING', 'high', 'A', '', 'lead', 9, '行政案件办理超期: 受案 2026-03-05, 期限 30 日'),
  ('PROPERTY-24H', 'medium', 'A', 'K1', 'nolead', 9, '涉案财物未在24小时内移交管理: 扣押 2026-05-10 09:00, 期限 24 小时'),
  ('ALARM-ACCEPT', 'high', 'J', 'J1', 'lead', 8, '接警后未及时受案: 接警 2026-05-10 09:00, 期限 24 小时'),
  ('CRIM-FILING', 'high', 'C', '', 'lead', 8, '刑事案件受案后未按期作出立案决定: 受案 2026-05-10, 期限 3 日'),
  ('ARREST-REQUEST', 'high', 'C', 'P1', 'nolead', 5, '刑事拘留后未按期提请批准逮捕或变更强制措施: 刑事拘留 2026-05-10, 期限 3 日'),
  ('INTERROGATION-RECORDING', 'high', 'A', '', 'fixed', 5, '执法办案场所询问未全程录音录像: 执法办案场所, 未录音录像'),
  ('OFFICER-OVERLAP', 'high', 'A', 'S1', 'fixed', 5, '同一民警同时参与两场询问: O10001 于 2026-05-10 09:00 起'),
  ('CRIM-SUMMONS', 'high', 'C', 'P1', 'nolead', 4, '刑事传唤、拘传持续时间超时: 传唤 2026-05-10 09:00, 期限 12 小时'),
  ('MINOR-NO-GUARDIAN', 'high', 'A', '', 'fixed', 4, '询问未成年人未通知监护人到场: P2, 16 岁'),
  ('INTERROGATION-2OFFICERS', 'high', 'A', '', 'fixed', 4, '询问、讯问的民警少于二人: 1 名民警'),
  ('CUSTODY-2M', 'high', 'C', 'P1', 'lead', 3, '逮捕后侦查羁押期限届满未移送审查起诉: 批准逮捕 2026-03-31, 期限 2 个月'),
  ('FT-48H', 'high', 'A', 'P1', 'lead', 3, '快速办理案件未在48小时内作出处理决定: 到案 2026-05-10 09:00'),
  ('BAIL-12M', 'medium', 'C', 'P1', 'lead', 2, '取保候审超过12个月: 取保候审 2025-05-10, 期限 12 个月'),
  ('SUPPL-1M', 'high', 'C', 'round:1', 'nolead', 2, '退回补充侦查后未按期重新移送: 退回 2026-05-10, 期限 1 个月'),
  ('FT-NO-CONSENT', 'high', 'A', '', 'fixed', 1, '适用快速办理未取得违法嫌疑人书面同意'),
  ('RSL-6M', 'medium', 'C', 'P1', 'lead', 1, '监视居住超过6个月: 监视居住 2025-11-10, 期限 6 个月'),
  ('FT-EXCLUDED-PERSON', 'high', 'A', 'P1', 'fixed', 1, '快速办理案件的违法嫌疑人不适用快速办理: 未成年人'),
  ('SANCTION-RANGE', 'high', 'A', 'P1', 'fixed', 1, '处罚超出裁量基准: PSAL-51 一般情节, 罚款 3000 元'),
  ('SANCTION-PEER', 'low', 'A', 'P1', 'anomaly', 1, '同案不同罚: 罚款 2000 元, 同类中位数 500 元 (45 件)');

CREATE OR REPLACE TEMPORARY TABLE rule_mix (PRIMARY KEY (slot)) AS
SELECT ROW_NUMBER() OVER (ORDER BY r.w DESC, r.rule, s.seq) - 1 AS slot, r.*
FROM rule_w r JOIN seq_1_to_100 s ON s.seq <= r.w;

CREATE OR REPLACE TEMPORARY TABLE unit_w (unit VARCHAR(12) CHARACTER SET ascii, w INT);
INSERT INTO unit_w VALUES
  ('370102', 20), ('370103', 15), ('370104', 10), ('370112', 10), ('370181', 5),
  ('370202', 10), ('370203', 8), ('370211', 7), ('370302', 8), ('370303', 7);
CREATE OR REPLACE TEMPORARY TABLE unit_mix (PRIMARY KEY (slot)) AS
SELECT ROW_NUMBER() OVER (ORDER BY u.w DESC, u.unit, s.seq) - 1 AS slot, u.unit
FROM unit_w u JOIN seq_1_to_100 s ON s.seq <= u.w;

INSERT INTO findings (rule, case_id, subject, unit, severity, state, due, raised,
                      message, basis, events, review)
SELECT r.rule,
       CONCAT(r.letter, u.unit, 2025 + f.n % 2, LPAD(f.n, 7, '0')),
       r.subject, u.unit, r.severity,
       CASE r.kind
         WHEN 'fixed' THEN 'violation'
         WHEN 'anomaly' THEN 'anomaly'
         WHEN 'nolead' THEN IF(f.h % 100 < 65, 'late', 'overdue')
         ELSE ELT(1 + f.h % 20, 'late', 'late', 'late', 'late', 'late', 'late', 'late', 'late',
                  'late', 'overdue', 'overdue', 'overdue', 'overdue', 'overdue', 'cleared',
                  'cleared', 'cleared', 'cleared', 'cleared', 'warning') END,
       IF(r.kind IN ('fixed', 'anomaly'), NULL, f.t),
       f.t + 1,
       CONCAT(r.message, ', 案件 ', f.n),
       '治安管理处罚法(2025修订); 公安机关办理行政案件程序规定; 公安机关办理刑事案件程序规定: 期限与程序的规定 (合成数据)',
       CONCAT('["evt-', LPAD(f.n, 9, '0'), '","evt-', LPAD(f.n + 1, 9, '0'), '"]'),
       ELT(1 + f.h DIV 100 % 50, 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open',
           'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open',
           'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open',
           'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open', 'open',
           'acknowledged', 'acknowledged', 'acknowledged', 'acknowledged', 'resolved',
           'resolved', 'resolved', 'dismissed')
FROM (SELECT seq + @from AS n,
             -- independent draws from the row number: state and review,
             -- and a time in 2025-01-01T00:00:00+08:00 + 720 days
             CRC32(CONCAT('s', seq + @from)) AS h,
             1735660800 + CRC32(CONCAT('t', seq + @from)) % 62208000 AS t,
             CRC32(CONCAT('r', seq + @from)) % 100 AS rs,
             CRC32(CONCAT('u', seq + @from)) % 100 AS us
      FROM seq_1_to_100000) f
JOIN rule_mix r ON r.slot = f.rs
JOIN unit_mix u ON u.slot = f.us;
