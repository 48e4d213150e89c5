-- Section 2 of DOMAIN.md: fast-track (快速办理) violations.
--
-- A case is fast-tracked from its case.fasttrack event on; the suspects
-- are the persons with role suspect. Ages are taken at the offence time
-- (case.offence_at: data.offence_at of case.accepted, else its time), in
-- 周岁 as engine.yaml's age_from counts them (by default from the day
-- after the birthday).

local BASIS_41 = "公安机关办理行政案件程序规定 第41条: 违法嫌疑人为未成年人、盲、聋、哑人或者尚未完全丧失辨认或者控制自己行为能力的精神病人, 可能被处以行政拘留十日以上, 或者依法应当举行听证的, 不适用快速办理"

local EXCLUDED_FLAGS = { blind = "盲人", deaf = "聋人", mute = "哑人", mental = "精神病人" }
local FLAG_ORDER = { "blind", "deaf", "mute", "mental" }

-- The suspects an event concerns: the person it names, or every suspect
-- for events about the whole case. Rules look at no one else, so a case
-- with hundreds of persons costs no more per event than a small one.
local function concerned(case, ev)
  local pid = ev.data.person
  if pid then
    local p = case:person(pid)
    return (p and p.role == "suspect") and { p } or {}
  end
  return case:persons("suspect")
end

-- Why a suspect may not be fast-tracked: the age (under 18) and the
-- flags (a set) that exclude; empty when nothing does.
local function excluded_why(age, flags)
  local why = {}
  if age and age < 18 then
    why[#why + 1] = "未成年人 (" .. age .. " 周岁 (" .. age_convention() .. "))"
  end
  for _, flag in ipairs(FLAG_ORDER) do
    if flags[flag] then why[#why + 1] = EXCLUDED_FLAGS[flag] end
  end
  return why
end

rule {
  id = "FT-EXCLUDED-PERSON",
  title = "快速办理适用于不得快速办理的违法嫌疑人",
  severity = "high",
  basis = BASIS_41 .. " (第1项)",
  on = { "case.fasttrack", "person.added" },
  needs = "case.fasttrack",
  check = function(case, ev)
    local ft = case:first("case.fasttrack")
    if not ft then return end
    -- a later person.added updates the person: one who is no longer a
    -- suspect (or no longer excluded, below) has no finding
    if ev.type == "person.added" and #concerned(case, ev) == 0 then
      withdraw(ev.data.person)
    end
    for _, person in ipairs(concerned(case, ev)) do
      local why = excluded_why(case:age(person.id), person.flags)
      if #why == 0 then
        withdraw(person.id)
      else
        -- the latest person.added of the suspect: when we learnt who they are
        local added = case:last("person.added", "person", person.id)
        report {
          subject = person.id,
          message = "快速办理的案件中违法嫌疑人 " .. person.id .. " 为" .. table.concat(why, "、") ..
                    ", 不得适用快速办理",
          events = { ft, added },
          raised = math.max(ft.at, added.at),
        }
      end
    end
  end,
  -- 智能量罚: may this person's case be fast-tracked?
  advise = function(q)
    local p = q.person or {}
    local age = p.birth_date and age(p.birth_date, q.offence_at)
    local why = excluded_why(age, set_of(p.flags))
    if #why > 0 then
      return { fasttrack = false, text = "违法嫌疑人为" .. table.concat(why, "、") .. ", 不得适用快速办理" }
    end
    return { fasttrack = true, text = p.birth_date and "违法嫌疑人不属不得快速办理的人员 (" .. age ..
             " 周岁)" or "未提供出生日期: 是否未成年须另行核实" }
  end,
}

rule {
  id = "FT-NO-CONSENT",
  title = "快速办理未经违法嫌疑人书面同意",
  severity = "high",
  basis = "公安机关办理行政案件程序规定 第42条: 快速办理案件前, 应当书面告知违法嫌疑人快速办理的相关规定, 征得其同意, 并由其签名确认",
  on = { "case.fasttrack" },
  check = function(case, ev)
    if explain("违法嫌疑人书面同意 (" .. ev.id .. ")", ev.data.consent) ~= true then
      report {
        message = "适用快速办理未取得违法嫌疑人书面同意 (" .. datetime(ev.at) .. ")",
      }
    end
  end,
}

-- The penalties decided at or after the fast-track decision (the same
-- second included, whichever arrived first): both the penalty and the
-- case.fasttrack event make the rules look again.
local function fasttracked_penalties(case)
  local ft = case:first("case.fasttrack")
  local out = {}
  if not ft then return nil, out end
  for p in case:events("penalty.decided") do
    if p.at >= ft.at then out[#out + 1] = p end
  end
  return ft, out
end

rule {
  id = "FT-DETENTION-10D",
  title = "快速办理案件处以十日以上行政拘留",
  severity = "high",
  basis = BASIS_41 .. " (第3项)",
  on = { "penalty.decided", "case.fasttrack" },
  needs = "case.fasttrack",
  check = function(case, ev)
    local ft, penalties = fasttracked_penalties(case)
    for _, p in ipairs(penalties) do
      local days = p.data.detention_days
      if days and days >= 10 then
        report {
          subject = p.data.person,
          message = "快速办理的案件对 " .. p.data.person .. " 决定行政拘留 " .. days ..
                    " 日, 可能处十日以上行政拘留的案件不适用快速办理",
          events = { ft, p },
          raised = p.at,
        }
      end
    end
  end,
  -- 智能量罚: does the range of the penalty allow fast track?
  advise = function(q)
    local r = q.advice and q.advice["SANCTION-RANGE"]
    if not (r and r.found) then return { text = "无裁量幅度可依, 无从判断拘留是否达到十日" } end
    local det = r.detention
    local required = det and r.combine ~= "or"
    if required and det[1] >= 10 then
      return { fasttrack = false, text = "裁量幅度必须处拘留 " .. det[1] .. " 日以上, 可能处十日以上行政拘留: 不适用快速办理" }
    elseif det and det[2] >= 10 then
      return { fasttrack = true, text = "快速办理的, 拘留须少于十日 (幅度拘留 " .. det[1] .. "-" .. det[2] .. " 日)" }
    end
    return { fasttrack = true, text = "幅度内拘留不足十日" }
  end,
}

-- The hearing threshold changed with the law: PSAL 2025 Art 117 (from
-- 2026-01-01) requires a hearing for fines of 4000 yuan or more on a
-- person; under the 2012 law (Art 98) it was 2000. The hearing is a
-- procedural step of the decision, so the law in force at the decision
-- picks the threshold, whenever the act was.
local HEARING_FINE = {
  { to = parse_time("2026-01-01T00:00:00+08:00"), fine = 2000, law = "治安管理处罚法(2012修正) 第98条" },
  { fine = 4000, law = "治安管理处罚法(2025修订) 第117条" },
}

local function hearing_fine(t)
  for _, v in ipairs(HEARING_FINE) do
    if not v.to or t < v.to then return v end
  end
end

rule {
  id = "FT-HEARING",
  title = "快速办理依法应当听证的案件",
  severity = "high",
  basis = BASIS_41 .. " (第2项); 治安管理处罚法(2025修订) 第117条: 吊销许可证件、处四千元以上罚款的, 应当告知有权要求举行听证 (2026年1月1日前作出的决定: 2012年修正本第98条, 二千元以上)",
  on = { "penalty.decided", "case.fasttrack" },
  needs = "case.fasttrack",
  check = function(case, ev)
    local ft, penalties = fasttracked_penalties(case)
    local hits, why = { ft }, {}
    for _, p in ipairs(penalties) do
      local h = hearing_fine(p.at)
      local w
      if p.data.revoke_license == true then
        w = "吊销许可证件"
      elseif (p.data.fine or 0) >= h.fine then
        w = "罚款 " .. p.data.fine .. " 元 (" .. h.fine .. " 元以上)"
      end
      if w then
        hits[#hits + 1] = p
        why[#why + 1] = "对 " .. p.data.person .. " 作出" .. w .. "的处罚 (" .. date(p.at) ..
                        " 决定, 适用决定时施行的" .. h.law .. ")"
      end
    end
    if #why > 0 then
      report {
        message = "快速办理的案件" .. table.concat(why, "; ") ..
                  ", 依法应当告知听证权利, 不适用快速办理",
        events = hits,
        raised = hits[2].at,
      }
    end
  end,
  -- 智能量罚: is a hearing needed (the threshold of the law at the decision)?
  advise = function(q)
    local h = hearing_fine(q.decided_at)
    local r = q.advice and q.advice["SANCTION-RANGE"]
    local rule = "罚款 " .. h.fine .. " 元以上或者吊销许可证件的, 应当告知听证权利, 不适用快速办理 (" ..
                 date(q.decided_at) .. " 决定, 适用决定时施行的" .. h.law .. ")"
    if not (r and r.found) then return { threshold = h.fine, law = h.law, text = rule } end
    local f, std = r.fine, r.standard and r.standard.fine or 0
    local required = f and (r.combine == "and" or not r.detention)
    local needed = (required and f[1] >= h.fine) or std >= h.fine
    local words
    if needed then
      words = "; 按标准处罚须听证"
    elseif f and f[2] >= h.fine then
      words = "; 幅度内罚款达到 " .. h.fine .. " 元的须听证"
    else
      words = "; 幅度内罚款至多 " .. (f and f[2] or 0) .. " 元, 无须听证"
    end
    return { hearing = needed, fasttrack = not needed, threshold = h.fine, law = h.law, text = rule .. words }
  end,
}

rule {
  id = "FT-48H",
  title = "快速办理案件未在48小时内办结",
  severity = "high",
  basis = "公安机关办理行政案件程序规定 第47条: 对快速办理的案件, 公安机关应当在违法嫌疑人到案后48小时内作出处理决定",
  on = { "case.fasttrack", "person.added", "summons.started", "penalty.decided", "case.decided" },
  needs = "case.fasttrack",
  states = { "warning", "overdue", "late", "cleared" },   -- an obligation with a lead
  params = { lead_hours = 6 },   -- the warning before the 48 hours end (rules/overrides.yaml may change it per unit)
  check = function(case, ev)
    if not case:first("case.fasttrack") then return end
    -- a person later recorded as no suspect is no longer judged
    if ev.type == "person.added" and #concerned(case, ev) == 0 then
      withdraw(ev.data.person)
    end
    for _, person in ipairs(concerned(case, ev)) do
      -- when the suspect arrived: the first summons of that person
      local arrived = case:first("summons.started", "person", person.id)
      if arrived then
        local decided
        for d in case:events("penalty.decided", "person", person.id) do
          if d.at >= arrived.at then decided = d; break end
        end
        for d in case:events("case.decided") do
          if d.at >= arrived.at then
            if not decided or d.at < decided.at then decided = d end
            break
          end
        end
        obligation {
          subject = person.id,
          due = arrived.at + hours(48),
          lead = hours(param("lead_hours")),
          met = decided and decided.at,
          message = "违法嫌疑人 " .. person.id .. " 到案 " .. datetime(arrived.at) .. ", 期限 48 小时",
          events = decided and { arrived, decided } or { arrived },
        }
      end
    end
  end,
}
