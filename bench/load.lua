-- wrk's script for the load test (tests/integration/load.sh, scripts/load):
-- a mix of ingest and queries over keep-alive connections. Of every ten
-- requests: four POST a new event, one POSTs again an event this thread
-- already sent (a client's retry: answered duplicate), two list findings,
-- one reads a case, one reads a finding's page of a rule, one /readyz.
-- Each thread counts the statuses; done() prints them as "status NNN COUNT"
-- lines, and "5xx N" (which must be 0).
local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("tid", n)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("CW_LOAD_INGEST") or "ingest-tok"
  reader = os.getenv("CW_LOAD_READER") or "admin-tok"
  seq = 0
  statuses = {}
end

local function event(i)
  local c = string.format("LOAD-%d-%d", tid, i % 500)
  return string.format('{"id":"load-%d-%d","type":"scene.attended","case":"%s","unit":"3701%02d",' ..
    '"at":"2026-05-%02dT%02d:%02d:00+08:00","data":{"ref":"R%d"}}',
    tid, i, c, i % 7 + 1, i % 28 + 1, i % 24, i % 60, i)
end

function request()
  seq = seq + 1
  local k = seq % 10
  if k < 4 then
    return wrk.format("POST", "/v1/events", { ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json" }, event(seq))
  elseif k == 4 then
    local again = math.max(1, seq - 7)
    return wrk.format("POST", "/v1/events", { ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json" }, event(again - again % 10))
  elseif k < 7 then
    return wrk.format("GET", "/v1/findings?limit=20&state=overdue,late", { ["Authorization"] = "Bearer " .. reader })
  elseif k == 7 then
    return wrk.format("GET", string.format("/v1/cases/LOAD-%d-%d", tid, seq % 500),
      { ["Authorization"] = "Bearer " .. reader })
  elseif k == 8 then
    return wrk.format("GET", "/v1/findings?rule=ADM-HANDLING&limit=5", { ["Authorization"] = "Bearer " .. reader })
  end
  return wrk.format("GET", "/readyz")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local all, five = {}, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, count in pairs(s) do
      all[code] = (all[code] or 0) + count
      if code >= 500 then five = five + count end
    end
  end
  for code, count in pairs(all) do
    io.write(string.format("status %d %d\n", code, count))
  end
  io.write(string.format("5xx %d\n", five))
  io.write(string.format("requests %d\nerrors connect %d read %d write %d timeout %d\n", summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.1f ms p99 %.1f ms\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
