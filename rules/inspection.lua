-- Section 4 of DOMAIN.md: inspection checks (督察) on interrogations.
--
-- A finding without a subject is about the case; where a case breaks a
-- rule in several interrogations, the one finding names them all, raised
-- when the first happened.

-- Add one offending interrogation to the rule's finding on the case:
-- the finding names every occurrence, raised at the first. found() gives
-- what is there, so a check never walks the whole case again.
local function occurrence(ev, why)
  return "讯问/询问 " .. ev.data.session .. " (" .. datetime(ev.at) .. ", " .. why .. ")"
end

local function add_occurrence(what, ev, why)
  local f = found()
  local part = occurrence(ev, why)
  local events, raised, message = {}, ev.at, what .. ": " .. part
  if f then
    for _, id in ipairs(f.events) do
      if id == ev.id then return end
      events[#events + 1] = id
    end
    raised = math.min(f.raised, ev.at)
    message = f.message .. "; " .. part
  end
  events[#events + 1] = ev
  report { message = message, events = events, raised = raised }
end

local function distinct(list)
  local seen, n = {}, 0
  for _, v in ipairs(list or {}) do
    if not seen[v] then seen[v] = true; n = n + 1 end
  end
  return n
end

rule {
  id = "INTERROGATION-2OFFICERS",
  title = "询问、讯问时执法人员少于二人",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第108条; 公安机关办理行政案件程序规定 第52条: 询问违法嫌疑人时, 人民警察不得少于二人; 在执法办案场所询问并全程录音录像的除外",
  on = { "interrogation.started" },
  check = function(case, ev)
    local n = explain("询问 " .. ev.data.session .. " 的民警人数", distinct(ev.data.officers))
    if n < 2 and not (explain("在执法办案场所", ev.data.in_facility == true) and
                      explain("全程录音录像", ev.data.recorded == true)) then
      add_occurrence("询问、讯问的民警少于二人", ev, n .. " 名民警")
    end
  end,
}

rule {
  id = "INTERROGATION-RECORDING",
  title = "执法办案场所询问未全程录音录像",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第97条: 在执法办案场所进行询问的, 应当全程同步录音录像",
  on = { "interrogation.started" },
  check = function(case, ev)
    if explain("询问 " .. ev.data.session .. " 在执法办案场所", ev.data.in_facility == true) and
       explain("询问 " .. ev.data.session .. " 全程录音录像", ev.data.recorded == true) ~= true then
      add_occurrence("在执法办案场所询问未全程录音录像", ev, "执法办案场所, 未录音录像")
    end
  end,
}

rule {
  id = "MINOR-NO-GUARDIAN",
  title = "询问未成年人未通知监护人到场",
  severity = "high",
  basis = "治安管理处罚法(2025修订) 第98条: 询问不满十八周岁的违反治安管理行为人, 应当通知其父母或者其他监护人到场",
  on = { "interrogation.started", "person.added" },
  needs = "interrogation.started",
  check = function(case, ev)
    -- why session s breaks the rule, or nil
    local function why(s)
      local age = case:age(s.data.person)
      if age and age < 18 and s.data.guardian_present ~= true then
        return s.data.person .. " " .. age .. " 周岁 (" .. age_convention() .. "), 监护人未到场"
      end
    end
    local what = "询问未成年人时监护人未到场"
    if ev.type == "interrogation.started" then
      local w = why(ev)
      if w then add_occurrence(what, ev, w) end
      return
    end
    -- a person.added gives or corrects a birth date: the case is judged
    -- again whole, so a corrected one withdraws what the earlier gave
    local events, parts = {}, {}
    for s in case:events("interrogation.started") do
      local w = why(s)
      if w then
        events[#events + 1] = s
        parts[#parts + 1] = occurrence(s, w)
      end
    end
    if #events == 0 then
      withdraw()
    else
      report { message = what .. ": " .. table.concat(parts, "; "), events = events,
               raised = events[1].at }
    end
  end,
}

-- OFFICER-OVERLAP: one officer in two sessions whose intervals overlap by
-- more than 5 minutes. A session runs from interrogation.started to the
-- interrogation.ended of the same case and session; one with no end yet
-- lasts until `now` (DOMAIN.md), so two sessions both still open overlap
-- more than 5 minutes from 5 minutes and 1 second after the later start
-- on: the finding is raised then, and shows from that time. Touching
-- sessions (one ends when the other starts) do not overlap. Sessions are
-- looked up within a day before the start: none lasts longer (the summons
-- limits top at 24 h). Each start and end judges its session and every
-- session that shares an officer with it again, so a finding that an end
-- undoes is withdrawn.

local WINDOW = hours(24)
local LIMIT = minutes(5)

-- The non-nil arguments as a list.
local function list(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then out[#out + 1] = v end
  end
  return out
end

-- The end of session `sid` of case `cid` that started at `start`, and its
-- event; nil while it has none.
local function ended(cid, sid, start)
  local e = find("interrogation.ended", "session", sid, start, start + WINDOW, cid)[1]
  if e then return e.at, e end
  return nil, nil
end

-- The sessions that share an officer with the one started by `st`, and
-- start before its end (or before now while it is open), each once:
-- {officer, start}.
local function neighbours(st, upto)
  local out, seen = {}, { [st.id] = true }
  for _, officer in ipairs(st.data.officers or {}) do
    for _, other in ipairs(find("interrogation.started", "officers", officer, st.at - WINDOW, upto)) do
      -- a session with both officers is one neighbour, named by the first
      if not seen[other.id] and not (other.case == st.case and other.data.session == st.data.session) then
        seen[other.id] = true
        out[#out + 1] = { officer = officer, start = other }
      end
    end
  end
  return out
end

local function overlap_words(officer, sid, other_case, other_sid, span)
  return "民警 " .. officer .. " 在讯问/询问 " .. sid .. " 期间同时参与案件 " .. other_case ..
         " 的讯问/询问 " .. other_sid .. ", " ..
         (span and ("重叠 " .. (span // 60) .. " 分钟") or "两次讯问/询问均未结束, 重叠已超过 5 分钟")
end

-- The overlap of session `st` (ending at my_end, nil while open) with the
-- session started by `other` (ending at o_end), when it passes five
-- minutes: when it does (raised) and its length (nil while both are open).
local function overlap(st, my_end, other, o_end)
  local from = math.max(st.at, other.at)
  local to = (my_end and o_end) and math.min(my_end, o_end) or my_end or o_end
  if to == nil or to - from > LIMIT then
    return from + LIMIT + 1, to and (to - from)
  end
end

local function key_of(st)
  return st.case .. "\0" .. st.data.session
end

local function overlap_report(st, my_end_ev, best)
  report {
    case = st.case,
    subject = st.data.session,
    message = overlap_words(best.officer, st.data.session, best.other.case,
                            best.other.data.session, best.span),
    events = list(st, best.other, my_end_ev, best.o_end_ev),
    raised = best.raised,
  }
end

-- The neighbours of session `st` with their ends: {officer, start, e, e_ev}.
local function around(st, my_end)
  local out = neighbours(st, my_end or now())
  for _, n in ipairs(out) do n.e, n.e_ev = ended(n.start.case, n.start.data.session, n.start.at) end
  return out
end

-- Judge the session started by `st` (its end and neighbours given): its
-- finding names the overlap that passed five minutes first (the earliest;
-- the same second: the other session first by case and session), or there
-- is none.
local function judge(st, my_end, my_end_ev, nbrs)
  local best
  for _, n in ipairs(nbrs) do
    local raised, span = overlap(st, my_end, n.start, n.e)
    if raised and (not best or raised < best.raised or
                   (raised == best.raised and key_of(n.start) < key_of(best.other))) then
      best = { raised = raised, officer = n.officer, other = n.start, span = span, o_end_ev = n.e_ev }
    end
  end
  if best then overlap_report(st, my_end_ev, best) else withdraw(st.data.session, st.case) end
end

local function judge_whole(st)
  local e, e_ev = ended(st.case, st.data.session, st.at)
  judge(st, e, e_ev, around(st, e))
end

-- What a start or end of session `mine` changes for neighbour n, whose
-- interval meets its: a finding that rests on `mine` is judged again
-- whole; otherwise only the overlap with `mine` can make it earlier (or
-- create it).
local function rejudge(mine, my_end, my_end_ev, n)
  local other = n.start
  local f = found(other.data.session, other.case)
  if f and has(f.events, mine.id) then return judge_whole(other) end
  local raised, span = overlap(other, n.e, mine, my_end)
  if not raised or (f and raised > f.raised) then return end
  if f and raised == f.raised then return judge_whole(other) end
  overlap_report(other, n.e_ev, { raised = raised, officer = n.officer, other = mine, span = span,
                                  o_end_ev = my_end_ev })
end

rule {
  id = "OFFICER-OVERLAP",
  title = "同一民警同时参与两起询问、讯问",
  severity = "high",
  basis = "笔录真实性要求; 公安机关办理行政案件程序规定 第52条: 询问应当由二名以上人民警察进行, 同一民警不能同时在两处询问",
  on = { "interrogation.started", "interrogation.ended" },
  needs = "interrogation.started",
  index = { { "interrogation.started", "officers" }, { "interrogation.started", "session" },
            { "interrogation.ended", "session" } },
  check = function(case, ev)
    local sid = ev.data.session
    local mine = ev.type == "interrogation.started" and ev or
                 find("interrogation.started", "session", sid, ev.at - WINDOW, ev.at, case.id)[1] or
                 case:first("interrogation.started", "session", sid)
    if not mine then return end
    local my_end, my_end_ev = ended(case.id, sid, mine.at)
    local nbrs = around(mine, my_end)
    judge(mine, my_end, my_end_ev, nbrs)
    for _, n in ipairs(nbrs) do
      -- only a neighbour whose interval meets this one's can change
      local to = (my_end and n.e) and math.min(my_end, n.e) or my_end or n.e
      if to == nil or to > math.max(mine.at, n.start.at) then rejudge(mine, my_end, my_end_ev, n) end
    end
  end,
}
