-- Section 1 of DOMAIN.md: filing and handling deadlines, as instances of
-- the C `deadline` model (parameters: docs/RULES.md, "deadline").

deadline {
  id = "ALARM-ACCEPT",
  title = "接警后未及时受案",
  severity = "high",
  basis = "公安部《关于改革完善受案立案制度的意见》(公通字〔2015〕32号); 治安管理处罚法(2025修订) 第90条: 对报案、控告、举报, 应当立即立案",
  start = { type = "alarm.received", when = { category = { "criminal", "administrative" } } },
  stop = "case.accepted",
  join = "alarm",             -- the acceptance may be in any case: data.alarm names the alarm
  subject = "alarm",
  period = { hours = 24 },
  lead = { hours = 4 },
}

deadline {
  id = "CRIM-FILING",
  title = "刑事案件受案后未按期作出立案决定",
  severity = "high",
  basis = "公安部《关于改革完善受案立案制度的意见》(公通字〔2015〕32号): 受案后3日内审查决定是否立案, 经批准可以延长, 最长不超过30日",
  scope = { kind = "criminal" },
  start = { type = "case.accepted", when = { kind = "criminal" } },
  stop = { "case.filed", "case.not_filed" },
  period = { days = 3 },
  lead = { days = 1 },
  extension = { limit = "filing_review", max_total_days = 30, violation_subject = "extension" },
}

deadline {
  id = "ADM-HANDLING",
  title = "行政案件办理超期",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第118条: 办理治安案件的期限, 自立案之日起不得超过30日; 案情重大、复杂的, 经上一级公安机关批准, 可以延长30日; 期限延长以二次为限",
  scope = { kind = "administrative" },
  start = { type = "case.accepted", when = { kind = "administrative" } },
  stop = { "case.decided", "case.closed" },
  period = { days = 30 },
  lead = { days = 5 },
  -- 30 days each, at most twice (an extension of more days adds 30)
  extension = { limit = "handling", max_count = 2, max_days = 30, violation_subject = "extension" },
}

deadline {
  id = "SUMMONS-LIMIT",
  title = "行政传唤询问查证超时",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第97条; 公安机关办理行政案件程序规定 第69条: 询问查证的时间不得超过8小时; 涉案人数众多、违反治安管理行为人身份不明的, 不得超过12小时; 情况复杂, 依法可能适用行政拘留处罚的, 不得超过24小时",
  scope = { kind = "administrative" },
  start = "summons.started",
  stop = "summons.ended",
  subject = "person",
  period = { hours = 8 },
  periods = {
    { when = { complex = true, detention_possible = true }, hours = 24 },
    { any = { many_involved = true, identity_unknown = true }, hours = 12 },
  },
  lead = { hours = 1 },
}

deadline {
  id = "CRIM-SUMMONS",
  title = "刑事传唤、拘传持续时间超时",
  severity = "high",
  basis = "刑事诉讼法 第119条: 传唤、拘传持续的时间不得超过12小时; 案情特别重大、复杂, 需要采取拘留、逮捕措施的, 不得超过24小时",
  scope = { kind = "criminal" },
  start = "summons.started",
  stop = "summons.ended",
  subject = "person",
  period = { hours = 12 },
  periods = { { when = { detention_possible = true }, hours = 24 } },
}

deadline {
  id = "PROPERTY-24H",
  title = "涉案财物未在24小时内移交管理",
  severity = "medium",
  basis = "公安机关办理行政案件程序规定 第190条; 公安机关涉案财物管理若干规定: 扣押涉案财物后24小时内移交涉案财物管理人员",
  start = "evidence.seized",
  stop = "evidence.stored",
  subject = "item",
  period = { hours = 24 },
}

deadline {
  id = "BODYCAM-24H",
  title = "执法记录仪视音频未在24小时内上传",
  severity = "medium",
  basis = "公安机关现场执法视音频记录工作规定 及省级实施细则: 现场执法视音频资料应当在24小时内上传存储",
  start = "scene.attended",
  stop = "bodycam.uploaded",
  subject = "ref",
  period = { hours = 24 },
}

deadline {
  id = "ARREST-REQUEST",
  title = "刑事拘留后未按期提请批准逮捕或变更强制措施",
  severity = "high",
  basis = "刑事诉讼法 第91条; 公安机关办理刑事案件程序规定 第129条: 拘留后3日内提请批准逮捕, 特殊情况可延长1至4日; 流窜作案、多次作案、结伙作案的重大嫌疑分子可延长至30日",
  start = "criminal_detention.started",
  stop = { "arrest.requested", "bail.started", "rsl.started" },
  subject = "person",
  period = { days = 3, custody = true },
  extension = {
    limit = "arrest_request",
    max_total_days = 7,
    flags = { "roving", "repeated", "gang" },
    flags_total_days = 30,
    violation_subject = "extension:{subject}",
  },
}

deadline {
  id = "CUSTODY-2M",
  title = "逮捕后侦查羁押期限届满未移送审查起诉",
  severity = "high",
  basis = "刑事诉讼法 第156-159条; 公安机关办理刑事案件程序规定 第148-151条: 逮捕后的侦查羁押期限不得超过2个月; 需要延长的, 应当在期限届满7日前提出",
  start = "arrest.approved",
  stop = "case.transferred",
  subject = "person",
  period = { months = 2, custody = true },
  lead = { days = 7 },
  extension = { limit = "custody" },
}

deadline {
  id = "BAIL-12M",
  title = "取保候审超过12个月",
  severity = "medium",
  basis = "刑事诉讼法 第79条: 取保候审最长不得超过12个月",
  start = "bail.started",
  stop = "bail.ended",
  subject = "person",
  period = { months = 12 },
  lead = { days = 15 },
}

deadline {
  id = "RSL-6M",
  title = "监视居住超过6个月",
  severity = "medium",
  basis = "刑事诉讼法 第79条: 监视居住最长不得超过6个月",
  start = "rsl.started",
  stop = "rsl.ended",
  subject = "person",
  period = { months = 6 },
  lead = { days = 15 },
}

deadline {
  id = "SUPPL-1M",
  title = "退回补充侦查后未按期重新移送",
  severity = "high",
  basis = "刑事诉讼法 第175条: 补充侦查应当在1个月以内完毕; 补充侦查以2次为限",
  start = "case.returned",
  stop = "case.resubmitted",
  period = { months = 1 },
  rounds = { field = "round", max = 2 },
}
