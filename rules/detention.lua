-- Section 5 of DOMAIN.md: the 24-hour duties of 刑事诉讼法 after a criminal
-- detention or an arrest, and the administrative seizure limit, as
-- instances of the C `deadline` model (parameters: docs/RULES.md).

-- 有碍侦查 waives the notice of a detention only for offences of state
-- security (刑法 第102条至第113条) and terrorism (第120条, 第120条之一至之六),
-- the case's cause as case.accepted gives it.
local STATE_SECURITY_TERRORISM = {
  "CL-102", "CL-103", "CL-104", "CL-105", "CL-106", "CL-107", "CL-108", "CL-109", "CL-110",
  "CL-111", "CL-112", "CL-113",
  "CL-120", "CL-120-1", "CL-120-2", "CL-120-3", "CL-120-4", "CL-120-5", "CL-120-6",
}

-- The 24-hour duties: B of the same person within 24 hours by the clock,
-- warned 4 hours before.
local function duty24(r)
  r.severity = "high"
  r.subject = "person"
  r.period = { hours = 24 }
  r.lead = { hours = 4 }
  deadline(r)
end

duty24 {
  id = "DETAIN-CUSTODY-24H",
  title = "刑事拘留后未在24小时内送看守所羁押",
  basis = "刑事诉讼法 第85条: 拘留后, 应当立即将被拘留人送看守所羁押, 至迟不得超过二十四小时",
  start = "criminal_detention.started",
  stop = "custody.admitted",
}

duty24 {
  id = "DETAIN-NOTIFY-24H",
  title = "刑事拘留后未在24小时内通知家属",
  basis = "刑事诉讼法 第85条: 除无法通知或者涉嫌危害国家安全犯罪、恐怖活动犯罪通知可能有碍侦查的情形以外, 应当在拘留后二十四小时以内, 通知被拘留人的家属",
  start = "criminal_detention.started",
  stop = { type = "family.notified", when = { of = "detention" } },
  exempt = {
    field = "notify_exempt",
    values = {
      unreachable = { label = "无法通知" },
      obstruction = { label = "有碍侦查", causes = STATE_SECURITY_TERRORISM,
                      causes_label = "危害国家安全犯罪或恐怖活动犯罪 (刑法 第102条至第113条、第120条及之一至之六)" },
    },
  },
}

duty24 {
  id = "DETAIN-INTERROGATE-24H",
  title = "刑事拘留后未在24小时内讯问",
  basis = "刑事诉讼法 第86条: 公安机关对被拘留的人, 应当在拘留后的二十四小时以内进行讯问",
  start = "criminal_detention.started",
  stop = "interrogation.started",
}

duty24 {
  id = "ARREST-NOTIFY-24H",
  title = "逮捕后未在24小时内通知家属",
  basis = "刑事诉讼法 第93条: 逮捕后, 除无法通知的以外, 应当在逮捕后二十四小时以内, 通知被逮捕人的家属",
  start = "arrest.executed",
  stop = { type = "family.notified", when = { of = "arrest" } },
  exempt = {
    field = "notify_exempt",
    values = {
      unreachable = { label = "无法通知" },
      obstruction = { label = "有碍侦查", lawful = false },   -- no exception after an arrest
    },
  },
}

duty24 {
  id = "ARREST-INTERROGATE-24H",
  title = "逮捕后未在24小时内讯问",
  basis = "刑事诉讼法 第94条: 公安机关对被逮捕的人, 必须在逮捕后的二十四小时以内进行讯问",
  start = "arrest.executed",
  stop = "interrogation.started",
}

deadline {
  id = "ADM-SEIZURE-30D",
  title = "行政案件扣押期限超过30日",
  severity = "medium",
  basis = "行政强制法 第25条: 查封、扣押的期限不得超过三十日; 情况复杂的, 经行政机关负责人批准, 可以延长, 但是延长期限不得超过三十日",
  scope = { kind = "administrative" },
  start = "evidence.seized",
  stop = { "evidence.disposed", "case.decided", "case.closed" },
  subject = "item",
  period = { days = 30 },
  lead = { days = 3 },
  -- once, at most 30 days, to the item named (without one: every item
  -- seized before it); the due never passes 60 days
  extension = { limit = "seizure", max_count = 1, max_days = 30, max_total_days = 60,
                violation_subject = "extension:{subject}" },
}
