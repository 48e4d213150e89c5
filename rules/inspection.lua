-- Section 4 of DOMAIN.md: inspection checks (督察) on interrogations.
--
-- A finding without a subject is about the case; where a case breaks a
-- rule in several interrogations, the one finding names them all, raised
-- when the first happened.

-- Add one offending interrogation to the rule's finding on the case:
-- the finding names every occurrence, raised at the first. found() gives
-- what is there, so a check never walks the whole case again.
local function add_occurrence(what, ev, why)
  local f = found()
  local part = "讯问/询问 " .. ev.data.session .. " (" .. datetime(ev.at) .. ", " .. why .. ")"
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
    local n = distinct(ev.data.officers)
    if n < 2 and not (ev.data.in_facility == true and ev.data.recorded == true) then
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
    if ev.data.in_facility == true and ev.data.recorded ~= true then
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
    local function look(s)
      local age = case:age(s.data.person)
      if age and age < 18 and s.data.guardian_present ~= true then
        add_occurrence("询问未成年人时监护人未到场", s,
                       s.data.person .. " " .. age .. " 周岁 (" .. age_convention() ..
                       "), 监护人未到场")
      end
    end
    if ev.type == "interrogation.started" then
      look(ev)
    else
      -- a birth date learnt later: the person's sessions so far
      for s in case:events("interrogation.started", "person", ev.data.person) do look(s) end
    end
  end,
}

-- OFFICER-OVERLAP: one officer in two sessions whose intervals overlap by
-- more than 5 minutes. A session runs from interrogation.started to the
-- interrogation.ended of the same case and session; one still open runs
-- up to the event being checked. Sessions are looked up within a day
-- before the start: none lasts longer (the summons limits top at 24 h).
-- The check runs when a session ends: at its start the session is an
-- instant and overlaps nothing, and a session still open is judged when
-- the other one ends.

local WINDOW = hours(24)

-- The non-nil arguments as a list.
local function list(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then out[#out + 1] = v end
  end
  return out
end

-- The interval of session `sid` of case `cid` that started at `start`.
local function interval(cid, sid, start, now_t)
  local e = find("interrogation.ended", "session", sid, start, start + WINDOW, cid)[1]
  if e then return e.at, e end
  return now_t, nil
end

-- A session's finding names the overlap that passed five minutes first
-- (the latest word on it when two pass at the same second), whichever
-- session's end revealed it: the result does not depend on the order in
-- which sessions are looked at.
local function overlap_finding(cid, subject, raised, r)
  local f = found(subject, cid)
  if not f or raised <= f.raised then report(r) end
end

rule {
  id = "OFFICER-OVERLAP",
  title = "同一民警同时参与两起询问、讯问",
  severity = "high",
  basis = "笔录真实性要求; 公安机关办理行政案件程序规定 第52条: 询问应当由二名以上人民警察进行, 同一民警不能同时在两处询问",
  on = { "interrogation.ended" },
  needs = "interrogation.started",
  index = { { "interrogation.started", "officers" }, { "interrogation.started", "session" },
            { "interrogation.ended", "session" } },
  check = function(case, ev)
    local sid = ev.data.session
    local mine = find("interrogation.started", "session", sid, ev.at - WINDOW, ev.at, case.id)[1] or
                 case:first("interrogation.started", "session", sid)
    if not mine then return end
    local t = now()
    local my_end, my_end_ev = interval(case.id, sid, mine.at, t)
    for _, officer in ipairs(mine.data.officers or {}) do
      for _, other in ipairs(find("interrogation.started", "officers", officer,
                                  mine.at - WINDOW, my_end)) do
        if not (other.case == case.id and other.data.session == sid) then
          local o_end, o_end_ev = interval(other.case, other.data.session, other.at, t)
          local from = math.max(mine.at, other.at)
          local overlap = math.min(my_end, o_end) - from
          if overlap > minutes(5) then
            local raised = from + minutes(5) + 1
            overlap_finding(case.id, sid, raised, {
              subject = sid,
              message = "民警 " .. officer .. " 在讯问/询问 " .. sid .. " 期间同时参与案件 " ..
                        other.case .. " 的讯问/询问 " .. other.data.session .. ", 重叠 " ..
                        (overlap // 60) .. " 分钟",
              events = list(mine, other, my_end_ev, o_end_ev),
              raised = raised,
            })
            overlap_finding(other.case, other.data.session, raised, {
              case = other.case,
              subject = other.data.session,
              message = "民警 " .. officer .. " 在讯问/询问 " .. other.data.session ..
                        " 期间同时参与案件 " .. case.id .. " 的讯问/询问 " .. sid .. ", 重叠 " ..
                        (overlap // 60) .. " 分钟",
              events = list(other, mine, o_end_ev, my_end_ev),
              raised = raised,
            })
          end
        end
      end
    end
  end,
}
