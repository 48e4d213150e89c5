-- wrk script for bench/db/api.sh: POST /v1/events with unique event ids,
-- or GET whatever path the command line names; at the end, one line of
-- figures for the script to read.
--
--   wrk -s post.lua URL -- post N     POST batches of N events (N = 1: the
--                                     event object alone), each answer
--                                     checked (201, or 200 with N stored)
--   wrk -s post.lua URL -- get        GET the URL, each answer checked (200)
--
-- The Authorization header comes from wrk's -H. Event ids are unique
-- across threads and runs: "w<run>-<thread>-<request>-<index>"; each
-- request carries the events of new cases, a realistic mix of types.

local threads = {}
local run = tostring(os.time())

function setup(thread)
  thread:set("tid", #threads + 1)
  thread:set("run", run)
  table.insert(threads, thread)
end

local mode, batch, n, bad = "get", 1, 0, 0
local want

-- The events of a new case, in order. Each case is an hour after the
-- previous one of its thread (its events a minute apart), its two
-- officers its thread's own (and its kind of run's), so that no officer
-- is in two places at once.
local templates = {
  '"type":"case.accepted","data":{"kind":"administrative","cause":"PSAL-51"}',
  '"type":"person.added","data":{"person":"P1","role":"suspect","birth_date":"1990-05-17"}',
  '"type":"summons.started","data":{"person":"P1"}',
  '"type":"interrogation.started","data":{"person":"P1","session":"S1","officers":["%s","%s"],"recorded":true,"in_facility":true}',
  '"type":"interrogation.ended","data":{"person":"P1","session":"S1"}',
  '"type":"summons.ended","data":{"person":"P1"}',
  '"type":"evidence.seized","data":{"item":"K1","description":"手机一部"}',
  '"type":"evidence.stored","data":{"item":"K1"}',
  '"type":"penalty.decided","data":{"person":"P1","cause":"PSAL-51","circumstance":"normal","fine":500,"detention_days":5}',
  '"type":"case.decided","data":{"outcome":"penalty"}',
}

function init(args)
  mode = args[1] or "get"
  batch = tonumber(args[2] or "1")
  tid = tonumber(wrk.thread:get("tid"))
  run = wrk.thread:get("run")
  wrk.thread:set("mode", mode)
  wrk.thread:set("batch", batch)
  if mode == "post" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    want = batch == 1 and 201 or 200
  end
end

local function event(i)
  local k = n * batch + i                        -- this thread's event number
  local c = math.floor(k / #templates)           -- this thread's case number
  local case = string.format("A9%d%05d%06d", tid, tonumber(run) % 100000, c)
  local t = 1767571200 + (c % 7000) * 3600 + (k % #templates) * 60   -- 2026-01-05 on
  local at = os.date("!%Y-%m-%dT%H:%M:%S+08:00", t + 8 * 3600)
  local data = templates[k % #templates + 1]
  if string.find(data, "officers", 1, true) then
    local set = tid * 10 + (batch == 1 and 1 or 2)   -- per thread and kind of run
    data = string.format(data, string.format("O%d%03d", set, c % 997),
                         string.format("O%d%03d", set, (c + 1) % 997))
  end
  return string.format('{"id":"w%s-%d-%d-%d",%s,"case":"%s","unit":"370102","at":"%s","actor":"O10001"}',
                       run, tid, n, i, data, case, at)
end

function request()
  n = n + 1
  if mode ~= "post" then
    return wrk.format()
  end
  local body
  if batch == 1 then
    body = event(0)
  else
    local parts = {}
    for i = 0, batch - 1 do parts[#parts + 1] = event(i) end
    body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if mode == "post" then
    if status ~= want or (batch > 1 and not string.find(body, '"stored":' .. batch .. ',', 1, true)) then
      bad = bad + 1
      if bad <= 3 then io.stderr:write("post.lua: HTTP " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
    end
  elseif status ~= 200 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("post.lua: HTTP " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
  end
  wrk.thread:set("bad", bad)
end

function done(summary, latency, requests)
  local wrong = 0
  for _, t in ipairs(threads) do wrong = wrong + (tonumber(t:get("bad")) or 0) end
  mode = threads[1]:get("mode")
  batch = tonumber(threads[1]:get("batch"))
  local s = summary.duration / 1e6
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("wrk: requests=%d seconds=%.2f requests_per_s=%.1f events_per_s=%.0f " ..
                         "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f wrong=%d socket_errors=%d\n",
                         summary.requests, s, summary.requests / s,
                         mode == "post" and summary.requests * batch / s or 0,
                         latency:percentile(50) / 1000, latency:percentile(90) / 1000,
                         latency:percentile(99) / 1000, latency.max / 1000, wrong, errs))
end
