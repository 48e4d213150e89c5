;;; Sections 2 (fast track) and 4 (inspection) of DOMAIN.md as CLIPS 6.30
;;; rules: the benchmark's peer to rules/fasttrack.lua and rules/inspection.lua
;;; (bench/README.md, "The CLIPS peer").
;;;
;;; bench/clips/peer asserts one fact per event of a type this file has a
;;; deftemplate for, named as the event type; a slot takes the envelope's
;;; field of its name (case, unit, at, actor, id) or else data's. Values:
;;; a slot named at or ending in _at holds a time as seconds since the
;;; epoch, one ending in _date a date as the integer YYYYMMDD, strings are
;;; symbols, true and false the symbols TRUE and FALSE, lists multifields;
;;; an absent field leaves the slot's default. The slot seq gets the
;;; event's line in the feed, its order of arrival, which breaks ties
;;; between events of the same second. Before the events the driver
;;; asserts one evaluation fact: the time evaluated at, the UTC offset in
;;; which days are counted, and how ages are counted. It also gives two
;;; functions CLIPS lacks: (parse-time "2026-01-01T00:00:00+08:00"), the
;;; time as seconds, and (local-date ?t ?offset), the date of a time.
;;;
;;; Everything is derived by pattern matching after every event is
;;; asserted, so the arrival order of the feed does not matter. A negated
;;; pattern names only events, which are all there before the first rule
;;; fires, except in the rules that report occurrences: they run last
;;; (salience -10), once every occurrence is known. The driver writes the
;;; finding facts as JSON lines.

;;; ---- the evaluation and the rule table --------------------------------

(deftemplate evaluation
  (slot now (type INTEGER))
  (slot tz-offset (type INTEGER))                ; seconds east of UTC
  (slot age-from (allowed-symbols birthday day_after_birthday)))

;;; raised: which occurrence of a violation in the case (per subject)
;;; the finding is raised at; deadline rules state their own.
(deftemplate rule-info
  (slot id)
  (slot severity)
  (slot raised (allowed-symbols first last deadline)))

(deffacts rule-table
  (rule-info (id FT-EXCLUDED-PERSON) (severity high) (raised last))
  (rule-info (id FT-NO-CONSENT) (severity high) (raised last))
  (rule-info (id FT-DETENTION-10D) (severity high) (raised last))
  (rule-info (id FT-HEARING) (severity high) (raised first))
  (rule-info (id FT-48H) (severity high) (raised deadline))
  (rule-info (id INTERROGATION-2OFFICERS) (severity high) (raised first))
  (rule-info (id INTERROGATION-RECORDING) (severity high) (raised first))
  (rule-info (id OFFICER-OVERLAP) (severity high) (raised first))
  (rule-info (id MINOR-NO-GUARDIAN) (severity high) (raised first)))

(defglobal
  ?*day* = 86400
  ?*48h* = (* 48 3600)
  ?*6h* = (* 6 3600)
  ?*overlap* = 300                               ; OFFICER-OVERLAP: 5 minutes
  ?*psal-2025* = (parse-time "2026-01-01T00:00:00+08:00"))

;;; ---- the events -----------------------------------------------------

(deftemplate case.accepted
  (slot case) (slot at) (slot seq) (slot offence_at))
(deftemplate person.added
  (slot case) (slot at) (slot seq) (slot person) (slot role) (slot birth_date)
  (multislot flags))
(deftemplate case.fasttrack
  (slot case) (slot at) (slot consent (default FALSE)))
(deftemplate penalty.decided
  (slot case) (slot at) (slot person) (slot fine (default 0))
  (slot detention_days (default 0)) (slot revoke_license (default FALSE)))
(deftemplate case.decided
  (slot case) (slot at))
(deftemplate summons.started
  (slot case) (slot at) (slot person))
(deftemplate interrogation.started
  (slot case) (slot at) (slot person) (slot session) (multislot officers)
  (slot in_facility (default FALSE)) (slot recorded (default FALSE))
  (slot guardian_present (default FALSE)))
(deftemplate interrogation.ended
  (slot case) (slot at) (slot session))

;;; ---- what the rules conclude ------------------------------------------

;;; One breach of a rule: the finding is raised at the first or the last
;;; occurrence for its rule, case and subject (rule-info).
(deftemplate occurrence
  (slot rule) (slot case) (slot subject (default "")) (slot at))

;;; A deadline: B must come by due; met is when it came, nil while open.
(deftemplate obligation
  (slot rule) (slot case) (slot subject (default "")) (slot due)
  (slot lead (default 0)) (slot met (default nil)))

(deftemplate finding
  (slot rule) (slot case) (slot subject (default "")) (slot severity)
  (slot state) (slot raised) (slot due (default nil)))

;;; ---- time and age -------------------------------------------------------

;;; (local-date ?t ?offset), the driver's: the civil date, as YYYYMMDD, of
;;; time ?t at UTC offset ?offset seconds.

(deffunction leap-year (?y)
  (and (= (mod ?y 4) 0) (or (<> (mod ?y 100) 0) (= (mod ?y 400) 0))))

(deffunction age-years (?birth ?on ?from)
  "Completed years (周岁) on date ?on for someone born on ?birth (both
   YYYYMMDD). With ?from birthday the birthday itself reaches the age;
   with day_after_birthday the next day does (法释〔2006〕1号 第2条). Born
   on 29 February: in a common year the birthday is 28 February. -1 when
   ?on is before ?birth."
  ;; The difference of two YYYYMMDD dates over 10000 counts the years
  ;; whose anniversary has been reached (MMDD compared as a number).
  (if (< ?on ?birth) then (return -1))
  (if (eq ?from day_after_birthday) then (return (div (- ?on ?birth 1) 10000)))
  (if (and (= (mod ?on 10000) 228) (= (mod ?birth 10000) 229) (not (leap-year (div ?on 10000))))
   then (div (- ?on ?birth -1) 10000)
   else (div (- ?on ?birth) 10000)))

;;; ---- the case and its persons ------------------------------------------

(deftemplate offence (slot case) (slot date))    ; date: YYYYMMDD, local
(deftemplate person (slot case) (slot id) (slot role) (multislot flags) (slot added))
(deftemplate birth (slot case) (slot person) (slot date))
(deftemplate age (slot case) (slot person) (slot years))

;;; The offence time is data.offence_at of the case's first case.accepted,
;;; else its time; ages are taken on its date.
(defrule offence-time
  (evaluation (tz-offset ?tz))
  (case.accepted (case ?c) (at ?t) (seq ?s) (offence_at ?o))
  (not (case.accepted (case ?c) (at ?t2&:(<= ?t2 ?t)) (seq ?s2&:(or (< ?t2 ?t) (< ?s2 ?s)))))
  =>
  (assert (offence (case ?c) (date (local-date (if (integerp ?o) then ?o else ?t) ?tz)))))

;;; A person is as the latest person.added about them says (a later one
;;; repeats what still holds); added is when that was.
(defrule person-view
  (person.added (case ?c) (person ?p) (role ?r) (flags $?f) (at ?t) (seq ?s))
  (not (person.added (case ?c) (person ?p) (at ?t2&:(>= ?t2 ?t)) (seq ?s2&:(or (> ?t2 ?t) (> ?s2 ?s)))))
  =>
  (assert (person (case ?c) (id ?p) (role ?r) (flags ?f) (added ?t))))

;;; The birth date: the latest person.added that gives one.
(defrule birth-date
  (person.added (case ?c) (person ?p) (birth_date ?b&:(integerp ?b)) (at ?t) (seq ?s))
  (not (person.added (case ?c) (person ?p) (birth_date ?b2&:(integerp ?b2))
                     (at ?t2&:(>= ?t2 ?t)) (seq ?s2&:(or (> ?t2 ?t) (> ?s2 ?s)))))
  =>
  (assert (birth (case ?c) (person ?p) (date ?b))))

(defrule age-at-offence
  (evaluation (age-from ?from))
  (offence (case ?c) (date ?on))
  (birth (case ?c) (person ?p) (date ?b))
  =>
  (assert (age (case ?c) (person ?p) (years (age-years ?b ?on ?from)))))

;;; ---- section 2: fast track (快速办理) ------------------------------------

;;; A case is fast-tracked from its first case.fasttrack on.
(deftemplate fasttrack (slot case) (slot since))

(defrule fasttracked
  (case.fasttrack (case ?c) (at ?t))
  (not (case.fasttrack (case ?c) (at ?t2&:(< ?t2 ?t))))
  =>
  (assert (fasttrack (case ?c) (since ?t))))

;;; FT-EXCLUDED-PERSON: a suspect under 18, or blind, deaf, mute or
;;; mental (行政程序规定 第41条 第1项); raised when both the fast track and
;;; what we know of the person were there.
(defrule ft-excluded-minor
  (fasttrack (case ?c) (since ?ft))
  (person (case ?c) (id ?p) (role suspect) (added ?added))
  (age (case ?c) (person ?p) (years ?y&:(< ?y 18)))
  =>
  (assert (occurrence (rule FT-EXCLUDED-PERSON) (case ?c) (subject ?p) (at (max ?ft ?added)))))

(defrule ft-excluded-condition
  (fasttrack (case ?c) (since ?ft))
  (person (case ?c) (id ?p) (role suspect) (added ?added) (flags $? blind|deaf|mute|mental $?))
  =>
  (assert (occurrence (rule FT-EXCLUDED-PERSON) (case ?c) (subject ?p) (at (max ?ft ?added)))))

;;; FT-NO-CONSENT: fast track without the suspect's written consent (第42条).
(defrule ft-no-consent
  (case.fasttrack (case ?c) (consent ~TRUE) (at ?t))
  =>
  (assert (occurrence (rule FT-NO-CONSENT) (case ?c) (at ?t))))

;;; FT-DETENTION-10D: 10 days of detention or more decided in a
;;; fast-tracked case (第41条 第3项), the decision at or after the fast track.
(defrule ft-detention-10d
  (fasttrack (case ?c) (since ?ft))
  (penalty.decided (case ?c) (person ?p) (at ?t&:(>= ?t ?ft)) (detention_days ?d&:(>= ?d 10)))
  =>
  (assert (occurrence (rule FT-DETENTION-10D) (case ?c) (subject ?p) (at ?t))))

;;; FT-HEARING: a penalty that requires a hearing (第41条 第2项): revoking
;;; a licence, or a fine at or above the threshold of the law in force at
;;; the decision (PSAL 2025 Art 117: 4000; 2012 Art 98: 2000).
(deftemplate hearing-threshold (slot law) (slot from) (slot until) (slot fine))
(deftemplate hearing-required (slot case) (slot at))

(deffacts hearing-thresholds
  (hearing-threshold (law PSAL-2012) (from 0) (until ?*psal-2025*) (fine 2000))
  (hearing-threshold (law PSAL-2025) (from ?*psal-2025*) (until 9223372036854775807) (fine 4000)))

(defrule hearing-for-revocation
  (penalty.decided (case ?c) (at ?t) (revoke_license TRUE))
  =>
  (assert (hearing-required (case ?c) (at ?t))))

(defrule hearing-for-fine
  (penalty.decided (case ?c) (at ?t) (fine ?fine))
  (hearing-threshold (from ?from&:(>= ?t ?from)) (until ?until&:(< ?t ?until)) (fine ?limit&:(>= ?fine ?limit)))
  =>
  (assert (hearing-required (case ?c) (at ?t))))

(defrule ft-hearing
  (fasttrack (case ?c) (since ?ft))
  (hearing-required (case ?c) (at ?t&:(>= ?t ?ft)))
  =>
  (assert (occurrence (rule FT-HEARING) (case ?c) (at ?t))))

;;; FT-48H: a decision within 48 hours of the suspect's arrival, the first
;;; summons.started of that person (第47条): the first penalty.decided of
;;; the person or case.decided at or after it; warned 6 hours before.
(deftemplate arrival (slot case) (slot person) (slot at))

(defrule arrived
  (fasttrack (case ?c))
  (summons.started (case ?c) (person ?p) (at ?t))
  (not (summons.started (case ?c) (person ?p) (at ?t2&:(< ?t2 ?t))))
  =>
  (assert (arrival (case ?c) (person ?p) (at ?t))))

(defrule ft-48h-decided-on-the-person
  (arrival (case ?c) (person ?p) (at ?a))
  (person (case ?c) (id ?p) (role suspect))
  (penalty.decided (case ?c) (person ?p) (at ?d&:(>= ?d ?a)))
  (not (penalty.decided (case ?c) (person ?p) (at ?d2&:(and (>= ?d2 ?a) (< ?d2 ?d)))))
  (not (case.decided (case ?c) (at ?d3&:(and (>= ?d3 ?a) (< ?d3 ?d)))))
  =>
  (assert (obligation (rule FT-48H) (case ?c) (subject ?p) (due (+ ?a ?*48h*)) (lead ?*6h*) (met ?d))))

(defrule ft-48h-decided-on-the-case
  (arrival (case ?c) (person ?p) (at ?a))
  (person (case ?c) (id ?p) (role suspect))
  (case.decided (case ?c) (at ?d&:(>= ?d ?a)))
  (not (case.decided (case ?c) (at ?d2&:(and (>= ?d2 ?a) (< ?d2 ?d)))))
  (not (penalty.decided (case ?c) (person ?p) (at ?d3&:(and (>= ?d3 ?a) (<= ?d3 ?d)))))
  =>
  (assert (obligation (rule FT-48H) (case ?c) (subject ?p) (due (+ ?a ?*48h*)) (lead ?*6h*) (met ?d))))

(defrule ft-48h-undecided
  (arrival (case ?c) (person ?p) (at ?a))
  (person (case ?c) (id ?p) (role suspect))
  (not (penalty.decided (case ?c) (person ?p) (at ?d&:(>= ?d ?a))))
  (not (case.decided (case ?c) (at ?d&:(>= ?d ?a))))
  =>
  (assert (obligation (rule FT-48H) (case ?c) (subject ?p) (due (+ ?a ?*48h*)) (lead ?*6h*))))

;;; ---- section 4: inspection (督察) ------------------------------------------

;;; INTERROGATION-2OFFICERS: fewer than 2 distinct officers (every officer
;;; listed is the first one), unless in the facility and recorded (PSAL
;;; 2025 Art 108; 行政程序规定 第52条).
(defrule interrogation-2officers
  (interrogation.started (case ?c) (at ?t) (officers $?o&:(subsetp ?o (first$ ?o)))
                         (in_facility ?f) (recorded ?r&:(not (and (eq ?f TRUE) (eq ?r TRUE)))))
  =>
  (assert (occurrence (rule INTERROGATION-2OFFICERS) (case ?c) (at ?t))))

;;; INTERROGATION-RECORDING: in the facility and not recorded (Art 97).
(defrule interrogation-recording
  (interrogation.started (case ?c) (at ?t) (in_facility TRUE) (recorded ~TRUE))
  =>
  (assert (occurrence (rule INTERROGATION-RECORDING) (case ?c) (at ?t))))

;;; MINOR-NO-GUARDIAN: a person under 18 questioned without a guardian
;;; present (Art 98), the age at the offence.
(defrule minor-no-guardian
  (age (case ?c) (person ?p) (years ?y&:(< ?y 18)))
  (interrogation.started (case ?c) (person ?p) (at ?t) (guardian_present ~TRUE))
  =>
  (assert (occurrence (rule MINOR-NO-GUARDIAN) (case ?c) (at ?t))))

;;; OFFICER-OVERLAP: one officer in two sessions (any cases) overlapping by
;;; more than 5 minutes; a finding on each session, raised when the
;;; overlap passed 5 minutes. A session runs from interrogation.started to
;;; the first interrogation.ended of that case and session within a day;
;;; one not ended lasts until now. Two sessions are compared when they
;;; started within a day of each other (no session may last longer).
(deftemplate session (slot case) (slot id) (slot start) (slot end) (multislot officers))

;;; on-duty: an officer's session filed under the day it started and the
;;; next, so that sessions starting within a day of each other meet in a
;;; day (a join on officer and day, which CLIPS hashes).
(deftemplate on-duty
  (slot officer) (slot day) (slot case) (slot session) (slot start) (slot end)
  (slot from) (slot until))                      ; start + 5 minutes, start + 1 day

;;; The first interrogation.ended of the session at or after its start
;;; ends it, if it came within a day.
(defrule session-ended
  (evaluation (now ?now))
  (interrogation.started (case ?c) (session ?s) (at ?t) (officers $?o))
  (interrogation.ended (case ?c) (session ?s) (at ?e&:(>= ?e ?t)))
  (not (interrogation.ended (case ?c) (session ?s) (at ?e2&:(and (>= ?e2 ?t) (< ?e2 ?e)))))
  =>
  (assert (session (case ?c) (id ?s) (start ?t) (end (if (<= (- ?e ?t) ?*day*) then ?e else ?now))
                   (officers ?o))))

(defrule session-open
  (evaluation (now ?now))
  (interrogation.started (case ?c) (session ?s) (at ?t) (officers $?o))
  (not (interrogation.ended (case ?c) (session ?s) (at ?e&:(>= ?e ?t))))
  =>
  (assert (session (case ?c) (id ?s) (start ?t) (end ?now) (officers ?o))))

;;; The join below compares bounds computed once per session, so that it
;;; makes no numbers (CLIPS keeps every integer in one table of 8191
;;; buckets: a number made costs a walk of its bucket). An overlap of more
;;; than 5 minutes: each session ends after the other's start + 5 minutes.
(defrule on-duty
  (session (case ?c) (id ?s) (start ?t) (end ?e) (officers $?officers))
  =>
  (bind ?day (div ?t ?*day*))
  (bind ?next (+ ?day 1))
  (bind ?from (+ ?t ?*overlap*))
  (bind ?until (+ ?t ?*day*))
  (progn$ (?o ?officers)
    (assert (on-duty (officer ?o) (day ?day) (case ?c) (session ?s) (start ?t) (end ?e)
                     (from ?from) (until ?until))
            (on-duty (officer ?o) (day ?next) (case ?c) (session ?s) (start ?t) (end ?e)
                     (from ?from) (until ?until)))))

(defrule officer-overlap
  (on-duty (officer ?o) (day ?d) (case ?c) (session ?s) (start ?t1) (from ?f1) (until ?u1)
           (end ?e1&:(> ?e1 ?f1)))
  (on-duty (officer ?o) (day ?d) (case ?c2) (session ?s2&:(or (neq ?c2 ?c) (neq ?s2 ?s)))
           (start ?t2&:(<= ?t2 ?u1)) (from ?f2&:(> ?e1 ?f2)) (until ?u2&:(<= ?t1 ?u2))
           (end ?e2&:(> ?e2 ?f1)&:(> ?e2 ?f2)))
  =>
  (assert (occurrence (rule OFFICER-OVERLAP) (case ?c) (subject ?s)
                      (at (+ (max ?t1 ?t2) ?*overlap* 1)))))

;;; ---- findings -------------------------------------------------------------

(defrule violation-at-first-occurrence
  (declare (salience -10))
  (rule-info (id ?r) (severity ?sev) (raised first))
  (occurrence (rule ?r) (case ?c) (subject ?s) (at ?t))
  (not (occurrence (rule ?r) (case ?c) (subject ?s) (at ?t2&:(< ?t2 ?t))))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state violation) (raised ?t))))

(defrule violation-at-last-occurrence
  (declare (salience -10))
  (rule-info (id ?r) (severity ?sev) (raised last))
  (occurrence (rule ?r) (case ?c) (subject ?s) (at ?t))
  (not (occurrence (rule ?r) (case ?c) (subject ?s) (at ?t2&:(> ?t2 ?t))))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state violation) (raised ?t))))

;;; The states of a deadline (DOMAIN.md conventions): B after due is late;
;;; B in [due - lead, due] cleared; no B and now past due overdue; no B
;;; and now in [due - lead, due] warning. A rule with no lead never warns
;;; or clears.
(defrule deadline-late
  (obligation (rule ?r) (case ?c) (subject ?s) (due ?due) (met ?m&:(integerp ?m)&:(> ?m ?due)))
  (rule-info (id ?r) (severity ?sev))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state late) (raised ?m) (due ?due))))

(defrule deadline-cleared
  (obligation (rule ?r) (case ?c) (subject ?s) (due ?due) (lead ?l&:(> ?l 0))
              (met ?m&:(integerp ?m)&:(<= (- ?due ?l) ?m ?due)))
  (rule-info (id ?r) (severity ?sev))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state cleared) (raised ?m) (due ?due))))

(defrule deadline-overdue
  (evaluation (now ?now))
  (obligation (rule ?r) (case ?c) (subject ?s) (due ?due&:(> ?now ?due)) (met nil))
  (rule-info (id ?r) (severity ?sev))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state overdue) (raised (+ ?due 1)) (due ?due))))

(defrule deadline-warning
  (evaluation (now ?now))
  (obligation (rule ?r) (case ?c) (subject ?s) (due ?due) (lead ?l&:(<= (- ?due ?l) ?now ?due)&:(> ?l 0))
              (met nil))
  (rule-info (id ?r) (severity ?sev))
  =>
  (assert (finding (rule ?r) (case ?c) (subject ?s) (severity ?sev) (state warning) (raised (- ?due ?l)) (due ?due))))
