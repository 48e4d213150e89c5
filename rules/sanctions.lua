-- Section 3 of DOMAIN.md: sanction standardisation (处罚裁量).
--
-- SANCTION-RANGE, SANCTION-TIER and SANCTION-PEER are instances of the C
-- `discretion` model over the tables in rules/discretion/ (format and
-- semantics: docs/SANCTIONS.md); MINOR-UNDER14 and DETENTION-EXEMPT are
-- checks on the persons of the case. Every finding here is about the
-- case (subject ""): one finding per case names every offending decision
-- or execution, raised at the first of them. Ages are taken at the
-- offence time (case.offence_at).

local TABLES = "discretion"

discretion {
  id = "SANCTION-RANGE",
  title = "处罚超出裁量基准幅度",
  severity = "high",
  basis = "违法行为所涉条款 (治安管理处罚法 2025修订 / 2012修正): 按违法行为发生时施行的裁量基准, 决定时施行的新裁量基准对该情节较轻的亦可适用 (从旧兼从轻, 行政处罚法 第37条); 每条发现注明所用基准及理由",
  tables = TABLES,
  check = "range",          -- this instance also analyses the tables (casewarden check)
}

discretion {
  id = "SANCTION-TIER",
  title = "具有较重情节却认定为一般或较轻情节",
  severity = "medium",
  basis = "治安管理处罚法(2025修订) 第20条至第22条 (从轻、减轻与从重情节), 第51条第2款 (殴打他人的较重情形)",
  tables = TABLES,
  check = "tier",
}

discretion {
  id = "SANCTION-PEER",
  title = "同案不同罚: 处罚偏离同类案件",
  severity = "low",
  basis = "行政处罚法 第5条: 设定和实施行政处罚必须以事实为依据, 与违法行为的事实、性质、情节以及社会危害程度相当 (过罚相当); 公安机关行政处罚裁量基准",
  tables = TABLES,
  check = "peer",
  window_days = 365,        -- peers decided in the 365 days before the decision
  min_peers = 20,           -- fewer peers: no comparison
  percentiles = { 5, 95 },  -- nearest-rank P5 and P95 of the peers' fines and days
  unit_prefix = 4,          -- same first 4 digits of the unit code
  late_days = 30,           -- a decision up to 30 days behind its group is still judged exactly
}

-- Ages are 周岁 as the courts count them (engine.yaml `age_from`; by
-- default from the day after the birthday, 法释〔2006〕1号 第2条): on the
-- 14th birthday a person is still under 14. Every message names the age
-- and the convention.
local function years(n)
  return n .. " 周岁 (" .. age_convention() .. ")"
end

-- The person's age at the offence time, from the birth date person.added
-- gave (nil without one, or without an offence time).
local function age_at(p, offence)
  return p and p.birth_date and offence and age(p.birth_date, offence)
end

-- MINOR-UNDER14 (PSAL 2025 Art 12; the 2012 law Art 12 says the same):
-- a fine or detention for a person under 14 at the offence time. A
-- warning alone is no fine or detention. The birth date comes from
-- person.added, which may arrive after the decision, so both are listened
-- to.
rule {
  id = "MINOR-UNDER14",
  title = "对不满十四周岁的人处以罚款或者拘留",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第12条: 不满十四周岁的人违反治安管理的, 不予处罚, 但是应当责令其监护人严加管教 (2012修正本第12条同)",
  on = { "penalty.decided", "person.added" },
  needs = "penalty.decided",
  check = function(case, ev)
    local hits, why = {}, {}
    for p in case:events("penalty.decided") do
      local fine, days = p.data.fine or 0, p.data.detention_days or 0
      if fine > 0 or days > 0 then
        local age = case:age(p.data.person)
        if age and age < 14 then
          local what = {}
          if days > 0 then what[#what + 1] = "拘留 " .. days .. " 日" end
          if fine > 0 then what[#what + 1] = "罚款 " .. fine .. " 元" end
          hits[#hits + 1] = p
          why[#why + 1] = p.data.person .. " 违法行为发生时 (" .. date(case.offence_at) .. ") " ..
                          years(age) .. ", " .. date(p.at) .. " 决定" .. table.concat(what, "、")
        end
      end
    end
    if #hits > 0 then
      report {
        message = "对不满十四周岁的人处以罚款或者拘留: " .. table.concat(why, "; ") ..
                  "; 不满十四周岁的人违反治安管理的, 不予处罚",
        events = hits,
        raised = hits[1].at,
      }
    else
      withdraw()
    end
  end,
  -- 智能量罚: may this person be fined or detained at all?
  advise = function(q)
    local p = q.person or {}
    local n = p.birth_date and age(p.birth_date, q.offence_at)
    if not n then return { text = "未提供出生日期: 无从判断是否不满十四周岁" } end
    if n < 14 then
      return { punishable = false, age = n, text = "违法行为发生时 " .. years(n) ..
               ": 不满十四周岁的人违反治安管理的, 不予处罚 (不得罚款或者拘留), 应当责令其监护人严加管教" }
    end
    return { punishable = true, age = n, text = "违法行为发生时 " .. years(n) ..
             (n < 18 and ": 已满十四周岁不满十八周岁, 应当从轻或者减轻处罚" or ": 已满十四周岁") }
  end,
}

-- DETENTION-EXEMPT: detention executed for a person the law exempts from
-- it: under 14 (they may not be punished at all, MINOR-UNDER14; no
-- exception), 14-15, 16-17 and a first offence, 70 or over, or pregnant or
-- nursing a baby under one. Under PSAL 2025 Art 23 the 14-15, 16-17 and
-- 70+ groups lose the exemption when the decision found the act serious
-- with a bad impact (serious_impact), the 14-15 and 70+ groups also for a
-- second offence within a year (repeat_within_year); pregnant and nursing
-- persons never do. The 2012 law (Art 21) has the same groups and no
-- exceptions.
--
-- Who may be detained is substantive: the law at the act applies, and the
-- newer one only where it is lighter and in force at the decision
-- (从旧兼从轻, 行政处罚法 Art 37). The 2025 exceptions make it heavier, so
-- an act before 2026-01-01 keeps the 2012 article even when decided later.
local EXEMPT_LAWS = {
  { to = parse_time("2026-01-01T00:00:00+08:00"), name = "治安管理处罚法(2012修正) 第21条",
    exceptions = false },
  { from = parse_time("2026-01-01T00:00:00+08:00"), name = "治安管理处罚法(2025修订) 第23条",
    exceptions = true },
}

local GROUPS = {
  child = { label = "不满十四周岁, 不予处罚", serious = false, repeat_ = false },
  teen = { label = "已满十四周岁不满十六周岁", serious = true, repeat_ = true },
  minor_first = { label = "已满十六周岁不满十八周岁, 初次违反治安管理", serious = true, repeat_ = false },
  elderly = { label = "七十周岁以上", serious = true, repeat_ = true },
  pregnant = { label = "怀孕或者哺乳自己不满一周岁婴儿", serious = false, repeat_ = false },
}

local function law_at(t)
  for _, l in ipairs(EXEMPT_LAWS) do
    if (not l.from or t >= l.from) and (not l.to or t < l.to) then return l end
  end
end

-- The law that decides, and why, for an act at `offence` decided at
-- `decided`: a newer law is lighter here when it has no exceptions
-- where the law at the act has some.
local function exempt_law(offence, decided)
  local old = law_at(offence)
  local new = law_at(decided or offence)
  if new ~= old and not new.exceptions and old.exceptions then
    return new, "违法行为发生于 " .. date(offence) .. ", 决定时施行的" .. new.name ..
                "较轻, 从旧兼从轻"
  end
  if new ~= old then
    return old, "违法行为发生于 " .. date(offence) .. ", 适用行为时的" .. old.name ..
                " (决定时施行的" .. new.name .. "增设除外情形, 不轻于旧法, 从旧兼从轻)"
  end
  return old, "违法行为发生于 " .. date(offence) .. ", 适用" .. old.name
end

-- The exempt group of person p ({birth_date, flags = {...}, first_offence})
-- at the offence time, with the age when it is about age.
local function exempt_group(p, offence)
  local n = age_at(p, offence)
  if n and n < 14 then return "child", n end
  if p.flags.pregnant or p.flags.nursing_infant then return "pregnant" end
  if not n then return nil end
  if n >= 14 and n < 16 then return "teen", n end
  if n >= 16 and n < 18 and p.first_offence == true then return "minor_first", n end
  if n >= 70 then return "elderly", n end
  return nil
end

-- Whether detention may be executed on p for an act at `offence` decided
-- at `decided` with the decision's factors (a set). Returns true, or
-- false and why in words: who (the group and age), what the decision
-- lacks for an exception, and which law decides.
local function may_detain(p, offence, decided, factors)
  local group, n = exempt_group(p, offence)
  if not group then return true end
  local g = GROUPS[group]
  local law, why = exempt_law(offence or decided, decided)
  local excepted = law.exceptions and ((g.serious and factors.serious_impact) or
                                       (g.repeat_ and factors.repeat_within_year))
  if excepted then
    return true, "(" .. g.label .. (n and (", " .. years(n)) or "") .. "), 但" ..
                 (factors.serious_impact and "情节严重、影响恶劣" or "一年以内二次以上违反治安管理") ..
                 ", 依法可以执行; 依据: " .. why
  end
  local missing = ""
  if law.exceptions and g.serious then
    missing = ", 处罚决定未认定情节严重、影响恶劣" ..
              (g.repeat_ and "或一年以内二次以上违反治安管理" or "")
  end
  return false, "(" .. g.label .. (n and (", " .. years(n)) or "") .. ")" .. missing ..
                "; 依据: " .. why
end

-- The person's latest penalty.decided at or before time t.
local function decision_before(case, person, t)
  local found
  for d in case:events("penalty.decided") do
    if d.data.person == person and d.at <= t then found = d end
  end
  return found
end

rule {
  id = "DETENTION-EXEMPT",
  title = "对依法不执行行政拘留的人执行拘留",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第23条: 已满十四周岁不满十六周岁的, 已满十六周岁不满十八周岁初次违反治安管理的, 七十周岁以上的, 怀孕或者哺乳自己不满一周岁婴儿的, 依法应当给予行政拘留处罚的, 不执行行政拘留处罚; 前三项情节严重、影响恶劣的, 或者第一项、第三项一年以内二次以上违反治安管理的除外 (2025-12-31 以前的违法行为: 2012修正本第21条, 无除外); 第12条: 不满十四周岁的人不予处罚",
  on = { "detention.executed", "person.added" },
  needs = "detention.executed",
  check = function(case, ev)
    local hits, why, seen = {}, {}, {}
    local function cite(e)
      if not seen[e.id] then seen[e.id] = true; hits[#hits + 1] = e end
    end
    for x in case:events("detention.executed") do
      local person = x.data.person
      local p = case:person(person)
      local decision = decision_before(case, person, x.at)
      local ok, reason = true, nil
      if p then
        ok, reason = may_detain(p, case.offence_at, decision and decision.at or x.at,
                                set_of(decision and decision.data.factors))
      end
      if not ok then
        cite(x)
        if decision then cite(decision) end
        local days = x.data.days and (" " .. x.data.days .. " 日") or ""
        why[#why + 1] = datetime(x.at) .. " 对 " .. person .. " 执行行政拘留" .. days .. " " ..
                        reason
      end
    end
    if #hits > 0 then
      report {
        message = "依法不执行行政拘留的人被执行拘留: " .. table.concat(why, "; "),
        events = hits,
        raised = hits[1].at,
      }
    else
      withdraw()
    end
  end,
  -- 智能量罚: may the detention be executed?
  advise = function(q)
    local p = q.person or {}
    local ok, why = may_detain({ birth_date = p.birth_date, flags = set_of(p.flags),
                                 first_offence = p.first_offence }, q.offence_at, q.decided_at,
                               set_of(q.factors))
    if ok then
      return { executable = true, text = "行政拘留可以执行" .. (why and (" " .. why) or "") }
    end
    return { executable = false, text = "依法不执行行政拘留 " .. why }
  end,
}
