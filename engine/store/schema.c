#include "store/db.h"

#include <stdlib.h>

/* ---- schema ---------------------------------------------------------------- */

/* Every statement of a migration is idempotent (IF NOT EXISTS), so a
 * migration cut short by a crash is simply run again. */
typedef struct migration {
    int version;
    const char *what;
    const char *const *sql;
} migration;

static const char *const v1[] = {
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.id')) PERSISTENT,"
    "  case_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.case')) PERSISTENT,"
    "  type VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.type')) VIRTUAL,"
    "  received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  source VARCHAR(16) NOT NULL DEFAULT 'sql',"
    "  UNIQUE KEY events_id (id),"
    "  KEY events_case (case_id, seq)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS event_problems ("
    "  seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    "  event_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  field VARCHAR(96) NOT NULL DEFAULT '',"
    "  message TEXT NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS event_conflicts ("
    "  n BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  event_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  first_seq BIGINT UNSIGNED NOT NULL,"
    "  body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  source VARCHAR(16) NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  KEY event_conflicts_id (event_id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS findings ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  unit VARCHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  severity ENUM('low','medium','high','critical') NOT NULL,"
    "  state ENUM('warning','overdue','late','violation','anomaly','cleared') NOT NULL,"
    "  due BIGINT NULL,"
    "  raised BIGINT NOT NULL,"
    "  message TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  basis TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  events TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  review ENUM('open','acknowledged','resolved','dismissed') NOT NULL DEFAULT 'open',"
    "  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    "  UNIQUE KEY findings_key (rule, case_id, subject),"
    "  KEY findings_unit (unit, id),"
    "  KEY findings_state (state, id),"
    "  KEY findings_review (review, id),"
    "  KEY findings_rule (rule, id),"
    "  KEY findings_case (case_id, id),"
    "  KEY findings_raised (raised, id),"
    "  KEY findings_due (due, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS finding_reviews ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  action ENUM('acknowledge','resolve','dismiss','reopen') NOT NULL,"
    "  previous ENUM('open','acknowledged','resolved','dismissed') NOT NULL,"
    "  review ENUM('open','acknowledged','resolved','dismissed') NOT NULL,"
    "  who VARCHAR(64) NOT NULL,"
    "  comment TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  KEY finding_reviews_finding (finding_id, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS engine_checkpoint ("
    "  name VARCHAR(64) NOT NULL PRIMARY KEY,"
    "  seq BIGINT UNSIGNED NOT NULL,"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE TRIGGER IF NOT EXISTS finding_reviews_no_update BEFORE UPDATE ON finding_reviews FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the review audit trail is append-only'",
    "CREATE TRIGGER IF NOT EXISTS finding_reviews_no_delete BEFORE DELETE ON finding_reviews FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the review audit trail is append-only'",
    /* The idempotent way for SQL clients to submit an event: stored,
     * duplicate (same content: nothing happens) or conflict (recorded,
     * not applied). */
    "CREATE PROCEDURE IF NOT EXISTS cw_put_event(IN b LONGTEXT, OUT result VARCHAR(16))\n"
    "BEGIN\n"
    "  DECLARE existing LONGTEXT DEFAULT NULL;\n"
    "  DECLARE first BIGINT UNSIGNED DEFAULT NULL;\n"
    "  SELECT body, seq INTO existing, first FROM events WHERE id = JSON_VALUE(b, '$.id') LIMIT 1;\n"
    "  IF existing IS NULL THEN\n"
    "    INSERT INTO events (body, source) VALUES (b, 'sql');\n"
    "    SET result = 'stored';\n"
    "  ELSEIF JSON_EQUALS(existing, b) THEN\n"
    "    SET result = 'duplicate';\n"
    "  ELSE\n"
    "    INSERT INTO event_conflicts (event_id, first_seq, body, source)\n"
    "      VALUES (JSON_VALUE(b, '$.id'), first, b, 'sql');\n"
    "    SET result = 'conflict';\n"
    "  END IF;\n"
    "END",
    NULL,
};

/* Inspectors' usual lists, by state and unit (their scope) or by rule,
 * newest last: ordered by id without reading through other states. */
static const char *const v2[] = {
    "CREATE INDEX IF NOT EXISTS findings_state_unit ON findings (state, unit, id)",
    "CREATE INDEX IF NOT EXISTS findings_rule_state ON findings (rule, state, unit, id)",
    NULL,
};

/* A finding's identity outlives the rules' judgement of it: withdrawn
 * findings stay, with the state they had (prior_state), and come back
 * with their id and history. The review lifecycle gains `assigned` and
 * `reopened`; a resolved or dismissed finding the rules judge worse is
 * reopened by the engine, and the trigger audits that like any review. */
static const char *const v3[] = {
    "ALTER TABLE findings MODIFY state ENUM('warning','overdue','late','violation','anomaly','cleared',"
    "'withdrawn') NOT NULL",
    "ALTER TABLE findings ADD COLUMN IF NOT EXISTS prior_state ENUM('warning','overdue','late','violation',"
    "'anomaly','cleared') NULL AFTER state",
    "ALTER TABLE findings MODIFY review ENUM('open','acknowledged','assigned','resolved','dismissed',"
    "'reopened') NOT NULL DEFAULT 'open'",
    "ALTER TABLE finding_reviews MODIFY action VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    " MODIFY previous VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    " MODIFY review VARCHAR(16) CHARACTER SET ascii NOT NULL",
    "CREATE TRIGGER IF NOT EXISTS findings_reopened AFTER UPDATE ON findings FOR EACH ROW "
    "IF NEW.review = 'reopened' AND OLD.review IN ('resolved','dismissed') AND NEW.state <> OLD.state THEN "
    "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, action, previous, review, who, comment) "
    "VALUES (NEW.id, NEW.rule, NEW.case_id, NEW.subject, 'reopen', OLD.review, 'reopened', 'casewarden', "
    "CONCAT('规则判断加重: ', IF(OLD.state = 'withdrawn', CONCAT(OLD.prior_state, ' (已撤回)'), OLD.state), "
    "' → ', NEW.state)); END IF",
    NULL,
};

/*
 * The order the engine reads events in: gseq, taken from a one-row
 * counter by a trigger in the inserting transaction. The counter's row
 * lock is held to the commit, so gseq values commit in their order and a
 * statement that fails or rolls back gives its values back: the log has
 * no holes, and reading past the checkpoint never waits for one (the
 * AUTO_INCREMENT seq, kept as the event's identity, has holes whenever an
 * INSERT fails on a taken id). Existing events are numbered in seq order.
 */
static const char *const v4[] = {
    "CREATE TABLE IF NOT EXISTS event_log ("
    "  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
    "  next BIGINT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB",
    "ALTER TABLE events ADD COLUMN IF NOT EXISTS gseq BIGINT UNSIGNED NULL AFTER seq",
    "DROP TRIGGER IF EXISTS events_no_update",
    "SELECT COALESCE(MAX(gseq), 0) INTO @cw_g FROM events",
    "UPDATE events SET gseq = (@cw_g := @cw_g + 1) WHERE gseq IS NULL ORDER BY seq",
    "INSERT INTO event_log (id, next) SELECT 0, COALESCE(MAX(gseq), 0) FROM events "
    "ON DUPLICATE KEY UPDATE next = GREATEST(next, VALUES(next))",
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_gseq ON events (gseq)",
    /* cases out of the engine's memory, as it left them */
    "CREATE TABLE IF NOT EXISTS case_state ("
    "  case_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,"
    "  gseq BIGINT UNSIGNED NOT NULL,"
    "  image LONGBLOB NOT NULL,"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    "  KEY case_state_gseq (gseq)"
    ") ENGINE=InnoDB",
    /* the engine's state at a checkpoint, in parts */
    "CREATE TABLE IF NOT EXISTS engine_snapshot ("
    "  name VARCHAR(64) NOT NULL,"
    "  part INT UNSIGNED NOT NULL,"
    "  data LONGBLOB NOT NULL,"
    "  PRIMARY KEY (name, part)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS engine_snapshot_meta ("
    "  name VARCHAR(64) NOT NULL PRIMARY KEY,"
    "  program VARCHAR(64) NOT NULL,"
    "  rules_digest BIGINT UNSIGNED NOT NULL,"
    "  gseq BIGINT UNSIGNED NOT NULL,"
    "  parts INT UNSIGNED NOT NULL,"
    "  bytes BIGINT UNSIGNED NOT NULL,"
    "  written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TRIGGER IF NOT EXISTS events_log_order BEFORE INSERT ON events FOR EACH ROW BEGIN\n"
    "  DECLARE g BIGINT UNSIGNED;\n"
    "  SELECT next + 1 INTO g FROM event_log WHERE id = 0 FOR UPDATE;\n"
    "  UPDATE event_log SET next = g WHERE id = 0;\n"
    "  SET NEW.gseq = g;\n"
    "END",
    NULL,
};

/* The rectification loop and what watches it. A finding is assigned (to
 * a unit or an officer, with a rectification due) and resolved (销号) at a
 * time the reports read; exemptions (豁免) are their own table, since an
 * exemption has a lifetime (expiry, lift) of its own beside the review;
 * every change of a finding's state, review or assignment is logged in
 * finding_changes by triggers, whatever process wrote it, for the live
 * stream and for an outbox. */
static const char *const v5[] = {
    "ALTER TABLE findings ADD COLUMN IF NOT EXISTS lead INT NULL AFTER due,"
    " ADD COLUMN IF NOT EXISTS assignee VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    " ADD COLUMN IF NOT EXISTS assignee_kind ENUM('unit','officer') NULL,"
    " ADD COLUMN IF NOT EXISTS rect_due BIGINT NULL,"
    " ADD COLUMN IF NOT EXISTS resolved_at BIGINT NULL",
    "CREATE INDEX IF NOT EXISTS findings_rect ON findings (review, rect_due, id)",
    "CREATE INDEX IF NOT EXISTS findings_assignee ON findings (assignee, id)",
    "ALTER TABLE finding_reviews"
    " ADD COLUMN IF NOT EXISTS assignee VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    " ADD COLUMN IF NOT EXISTS assignee_kind VARCHAR(8) CHARACTER SET ascii NULL,"
    " ADD COLUMN IF NOT EXISTS rect_due BIGINT NULL,"
    " ADD COLUMN IF NOT EXISTS evidence TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
    "CREATE TABLE IF NOT EXISTS finding_exemptions ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  unit VARCHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  reason TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  approver VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  who VARCHAR(64) NOT NULL,"
    "  at BIGINT NOT NULL,"
    "  expires BIGINT NOT NULL,"
    "  lifted_at BIGINT NULL,"
    "  lifted_by VARCHAR(64) NULL,"
    "  lift_comment TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  KEY finding_exemptions_key (rule, case_id, subject),"
    "  KEY finding_exemptions_finding (finding_id, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS finding_changes ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  unit VARCHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  what VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT 'finding',"
    "  from_state VARCHAR(16) CHARACTER SET ascii NULL,"
    "  to_state VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  from_review VARCHAR(16) CHARACTER SET ascii NULL,"
    "  to_review VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  KEY finding_changes_unit (unit, id),"
    "  KEY finding_changes_finding (finding_id, id)"
    ") ENGINE=InnoDB",
    /* resolved_at is the time of the 销号 in force: gone when the review
     * leaves `resolved`, whoever moved it (the engine reopens by upsert) */
    "CREATE TRIGGER IF NOT EXISTS findings_resolved_at BEFORE UPDATE ON findings FOR EACH ROW "
    "IF NEW.review <> 'resolved' THEN SET NEW.resolved_at = NULL; END IF",
    "CREATE TRIGGER IF NOT EXISTS findings_changes_new AFTER INSERT ON findings FOR EACH ROW "
    "INSERT INTO finding_changes (finding_id, rule, case_id, subject, unit, from_state, to_state, "
    "from_review, to_review) VALUES (NEW.id, NEW.rule, NEW.case_id, NEW.subject, NEW.unit, NULL, "
    "NEW.state, NULL, NEW.review)",
    "CREATE TRIGGER IF NOT EXISTS findings_changes AFTER UPDATE ON findings FOR EACH ROW "
    "IF NOT (OLD.state <=> NEW.state AND OLD.review <=> NEW.review AND OLD.unit <=> NEW.unit AND "
    "OLD.assignee <=> NEW.assignee AND OLD.rect_due <=> NEW.rect_due) THEN "
    "INSERT INTO finding_changes (finding_id, rule, case_id, subject, unit, from_state, to_state, "
    "from_review, to_review) VALUES (NEW.id, NEW.rule, NEW.case_id, NEW.subject, NEW.unit, OLD.state, "
    "NEW.state, OLD.review, NEW.review); END IF",
    NULL,
};

/* Version 6: the provenance of every finding, written with it: the
 * version of the rule that raised it (a digest of its declaration,
 * parameters and the data it read), the program, and the per-unit
 * override it was raised under. A finding keeps them until the rules
 * judge it otherwise. */
static const char *const v6[] = {
    "ALTER TABLE findings"
    " ADD COLUMN IF NOT EXISTS rule_version CHAR(16) CHARACTER SET ascii NULL,"
    " ADD COLUMN IF NOT EXISTS program VARCHAR(64) CHARACTER SET ascii NULL,"
    " ADD COLUMN IF NOT EXISTS override_unit VARCHAR(12) CHARACTER SET ascii NULL,"
    " ADD COLUMN IF NOT EXISTS override_at VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
    NULL,
};

/*
 * Partitions, for several engines. A case's partition is a hash of its
 * number (CRC32 modulo the count fixed at the first migrate, default 256),
 * stored with each event; within a partition events are numbered by a
 * counter row of their own (partition_log), taken by the trigger in the
 * inserting transaction like gseq. The counter's row lock orders the
 * commits of one partition on one server, and on a Galera cluster two
 * transactions that take the same counter on two nodes write the same row,
 * so certification lets one commit and fails the other (error 1213, retried
 * whole): on every node, the events of a partition become visible in pseq
 * order without holes, which AUTO_INCREMENT (interleaved by node, 1, 4, 7
 * here and 2, 5, 8 there, and committed in any order) cannot give. An
 * engine that owns some partitions reads each one past its own cursor.
 * partition_leases says who owns which partition (owner, expiry in
 * microseconds, and a fencing token that grows at every change of owner);
 * engine_members holds each engine's heartbeat, so engines know how many
 * share the partitions.
 */
static const char *const v7[] = {
    "CREATE TABLE IF NOT EXISTS partitioning ("
    "  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
    "  parts INT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB",
    "INSERT IGNORE INTO partitioning (id, parts) VALUES (0, COALESCE(@cw_parts, 256))",
    "CREATE TABLE IF NOT EXISTS partition_log ("
    "  part INT UNSIGNED NOT NULL PRIMARY KEY,"
    "  next BIGINT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS partition_leases ("
    "  part INT UNSIGNED NOT NULL PRIMARY KEY,"
    "  owner VARCHAR(64) NOT NULL DEFAULT '',"
    "  expires BIGINT NOT NULL DEFAULT 0,"
    "  token BIGINT UNSIGNED NOT NULL DEFAULT 0,"
    "  ckpt BIGINT UNSIGNED NOT NULL DEFAULT 0,"
    "  writes BIGINT UNSIGNED NOT NULL DEFAULT 0,"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS engine_members ("
    "  name VARCHAR(64) NOT NULL PRIMARY KEY,"
    "  expires BIGINT NOT NULL,"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "INSERT IGNORE INTO partition_log (part, next) SELECT n, 0 FROM (WITH RECURSIVE s(n) AS "
    "(SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < (SELECT parts FROM partitioning WHERE id = 0)) "
    "SELECT n FROM s) x",
    "INSERT IGNORE INTO partition_leases (part) SELECT part FROM partition_log",
    "ALTER TABLE events ADD COLUMN IF NOT EXISTS part INT UNSIGNED NULL AFTER gseq,"
    " ADD COLUMN IF NOT EXISTS pseq BIGINT UNSIGNED NULL AFTER part",
    "DROP TRIGGER IF EXISTS events_no_update",
    "UPDATE events SET part = CRC32(COALESCE(case_id, '')) % (SELECT parts FROM partitioning WHERE id = 0) "
    "WHERE part IS NULL",
    "UPDATE events e JOIN (SELECT seq, ROW_NUMBER() OVER (PARTITION BY part ORDER BY gseq) AS n FROM events) r"
    " ON r.seq = e.seq SET e.pseq = r.n WHERE e.pseq IS NULL",
    "UPDATE partition_log l SET next = GREATEST(next, (SELECT COALESCE(MAX(pseq), 0) FROM events e "
    "WHERE e.part = l.part))",
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_part ON events (part, pseq)",
    "DROP TRIGGER IF EXISTS events_log_order",
    "CREATE TRIGGER IF NOT EXISTS events_log_order BEFORE INSERT ON events FOR EACH ROW BEGIN\n"
    "  DECLARE g, q BIGINT UNSIGNED;\n"
    "  DECLARE p INT UNSIGNED;\n"
    "  SELECT next + 1 INTO g FROM event_log WHERE id = 0 FOR UPDATE;\n"
    "  UPDATE event_log SET next = g WHERE id = 0;\n"
    "  SELECT CRC32(COALESCE(JSON_VALUE(NEW.body, '$.case'), '')) % parts INTO p FROM partitioning"
    "   WHERE id = 0;\n"
    "  SELECT next + 1 INTO q FROM partition_log WHERE part = p FOR UPDATE;\n"
    "  UPDATE partition_log SET next = q WHERE part = p;\n"
    "  SET NEW.gseq = g, NEW.part = p, NEW.pseq = q;\n"
    "END",
    NULL,
};

/* Notifications (执法提醒, docs/NOTIFY.md). Every change the change log
 * records also goes, by trigger, into notify_outbox, in the transaction
 * that changed the finding: no finding is stored without its change
 * queued. The notifier routes outbox rows into items (one per finding,
 * transition and receiver, with its idempotency key) gathered into
 * messages (one per group), the escalation ladders' state beside them,
 * and deletes the rows it routed in the same transaction. Every attempt
 * to deliver a message is logged. Times named *_ms are the wall clock's
 * milliseconds (delivery: group waits, retries); not_before and the
 * ladders' times are the service's clock in seconds. */
static const char *const v8[] = {
    "CREATE TABLE IF NOT EXISTS notify_outbox ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  change_id BIGINT UNSIGNED NOT NULL,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  what VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  from_state VARCHAR(16) CHARACTER SET ascii NULL,"
    "  to_state VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  from_review VARCHAR(16) CHARACTER SET ascii NULL,"
    "  to_review VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TRIGGER IF NOT EXISTS finding_changes_outbox AFTER INSERT ON finding_changes FOR EACH ROW "
    "INSERT INTO notify_outbox (change_id, finding_id, what, from_state, to_state, from_review, to_review) "
    "VALUES (NEW.id, NEW.finding_id, NEW.what, NEW.from_state, NEW.to_state, NEW.from_review, NEW.to_review)",
    "CREATE TABLE IF NOT EXISTS notify_messages ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  msg_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  receiver VARCHAR(64) CHARACTER SET ascii NOT NULL,"
    "  group_key VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  ladder VARCHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  level INT NOT NULL DEFAULT 0,"
    "  status ENUM('grouping','held','queued','sent','dead') NOT NULL,"
    "  items INT NOT NULL DEFAULT 0,"
    "  attempts INT NOT NULL DEFAULT 0,"
    "  next_ms BIGINT NOT NULL,"
    "  not_before BIGINT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  sent_ms BIGINT NULL,"
    "  body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  http_status INT NULL,"
    "  last_error TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  UNIQUE KEY notify_messages_key (msg_key),"
    "  KEY notify_messages_due (status, next_ms),"
    "  KEY notify_messages_group (receiver, group_key, status),"
    "  KEY notify_messages_receiver (receiver, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS notify_items ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  item_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  msg_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  transition VARCHAR(16) CHARACTER SET ascii NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  UNIQUE KEY notify_items_key (item_key),"
    "  KEY notify_items_message (msg_key),"
    "  KEY notify_items_finding (finding_id, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS notify_attempts ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  message_id BIGINT UNSIGNED NOT NULL,"
    "  attempt INT NOT NULL,"
    "  at_ms BIGINT NOT NULL,"
    "  http_status INT NULL,"
    "  error TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  latency_us BIGINT NOT NULL,"
    "  KEY notify_attempts_message (message_id, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS notify_escalations ("
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  ladder VARCHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  level INT NOT NULL DEFAULT 0,"
    "  started BIGINT NOT NULL,"
    "  next_at BIGINT NULL,"
    "  status ENUM('running','done','stopped') NOT NULL DEFAULT 'running',"
    "  reason VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  PRIMARY KEY (finding_id, ladder),"
    "  KEY notify_escalations_due (status, next_at)"
    ") ENGINE=InnoDB",
    /* reminders of findings still open (repeat_interval), one per
     * finding and receiver, on the service's clock */
    "CREATE TABLE IF NOT EXISTS notify_repeats ("
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  receiver VARCHAR(64) CHARACTER SET ascii NOT NULL,"
    "  every_s BIGINT NOT NULL,"
    "  next_at BIGINT NOT NULL,"
    "  sent INT NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (finding_id, receiver),"
    "  KEY notify_repeats_due (next_at)"
    ") ENGINE=InnoDB",
    NULL,
};

static const migration migrations[] = {
    { 1, "events, findings, reviews, checkpoint", v1 },
    { 2, "findings indexes for inspectors' lists", v2 },
    { 3, "withdrawn findings keep their identity; assigned and reopened reviews", v3 },
    { 4, "a gapless, commit-ordered event log (gseq); cases out of the engine's memory; snapshots", v4 },
    { 5, "assignment and rectification due, exemptions, the change log", v5 },
    { 6, "the provenance of findings: rule version, program, per-unit override", v6 },
    { 7, "partitions of the cases (per-partition event order), partition leases, engine members", v7 },
    { 8, "notifications: the outbox, items, messages, attempts, escalation ladders, reminders", v8 },
};

/* The number of partitions is fixed by the migrate that creates them
 * (version 7): asking for another later is refused. */
static int partitions_asked(cw_db *db, int version, unsigned parts, cw_err *err)
{
    int64_t have = 0;
    int rc;

    if (version >= 7) {
        if (parts == 0)
            return 0;
        if ((rc = cw_db_scalar(db, "SELECT parts FROM partitioning WHERE id = 0", &have, err)) < 0)
            return rc;
        if ((unsigned)have != parts)
            return cw_err_set(err, CW_EDB, "the database has %lld partitions, fixed when it was created; "
                              "--partitions %u cannot change that", (long long)have, parts);
        return 0;
    }
    return cw_db_pexec(db, "SET @cw_parts = ?", (cw_dbarg[]){ CW_DBA_I(parts ? parts : 256) }, 1, NULL,
                       err);
}

int cw_store_schema_version(cw_db *db, int *version, cw_err *err)
{
    int64_t v = 0, exists = 0;
    int rc;

    *version = 0;
    if ((rc = cw_db_scalar(db, "SELECT COUNT(*) FROM information_schema.tables WHERE "
                               "table_schema = DATABASE() AND table_name = 'cw_schema'",
                           &exists, err)) < 0)
        return rc;
    if (exists == 0)
        return 0;
    if ((rc = cw_db_scalar(db, "SELECT COALESCE(MAX(version), 0) FROM cw_schema", &v, err)) < 0)
        return rc;
    *version = (int)v;
    return 0;
}

int cw_store_schema_latest(void)
{
    return migrations[sizeof migrations / sizeof *migrations - 1].version;
}

int cw_store_migrate(cw_db *db, FILE *progress, cw_err *err)
{
    return cw_store_migrate_parts(db, 0, progress, err);
}

int cw_store_migrate_parts(cw_db *db, unsigned parts, FILE *progress, cw_err *err)
{
    int latest = cw_store_schema_latest();
    int64_t got = 0;
    int version, rc;

    /* one migrator at a time */
    if ((rc = cw_db_scalar(db, "SELECT GET_LOCK('casewarden.migrate', 60)", &got, err)) < 0)
        return rc;
    if (got != 1)
        return cw_err_set(err, CW_EDB, "another migration holds the lock; try again");
    if ((rc = cw_db_exec(db, "CREATE TABLE IF NOT EXISTS cw_schema ("
                             "  version INT NOT NULL PRIMARY KEY,"
                             "  description VARCHAR(200) NOT NULL,"
                             "  applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                             ") ENGINE=InnoDB", err)) < 0)
        goto out;
    if ((rc = cw_store_schema_version(db, &version, err)) < 0)
        goto out;
    if ((rc = partitions_asked(db, version, parts, err)) < 0)
        goto out;
    if (version > latest) {
        rc = cw_err_set(err, CW_EDB, "the database schema is version %d, newer than this casewarden "
                        "(which knows up to %d): upgrade casewarden instead", version, latest);
        goto out;
    }
    if (version == latest && progress)
        fprintf(progress, "casewarden migrate: schema is up to date (version %d)\n", version);
    for (size_t i = 0; i < sizeof migrations / sizeof *migrations; i++) {
        const migration *m = &migrations[i];
        if (m->version <= version)
            continue;
        if (progress)
            fprintf(progress, "casewarden migrate: applying version %d: %s\n", m->version, m->what);
        for (const char *const *s = m->sql; *s; s++)
            if ((rc = cw_db_exec(db, *s, err)) < 0) {
                cw_err_prefix(err, "migration %d", m->version);
                goto out;
            }
        rc = cw_db_pexec(db, "INSERT INTO cw_schema (version, description) VALUES (?, ?)",
                         (cw_dbarg[]){ CW_DBA_I(m->version), CW_DBA_S(m->what) }, 2, NULL, err);
        if (rc < 0 || (rc = cw_db_commit(db, err)) < 0)
            goto out;
    }
    rc = 0;
out:
    {
        cw_err e2;
        cw_db_scalar(db, "SELECT RELEASE_LOCK('casewarden.migrate')", &got, &e2);
    }
    return rc;
}

int cw_store_check_schema(cw_db *db, const char *dbname, cw_err *err)
{
    int latest = cw_store_schema_latest();
    int version, rc;

    if ((rc = cw_store_schema_version(db, &version, err)) < 0)
        return rc;
    if (version == 0)
        return cw_err_set(err, CW_EDB, "database '%s' has no casewarden schema: run `casewarden migrate` "
                          "first", dbname);
    if (version != latest)
        return cw_err_set(err, CW_EDB, "database schema is version %d, this casewarden needs %d: %s",
                          version, latest, version < latest ? "run `casewarden migrate`" : "upgrade casewarden");
    return 0;
}
