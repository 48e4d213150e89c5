-- coverage: a small rule file whose numbers are worked out by hand
local function word(n)
  return n .. " 日"
end
rule { id = "COV-A", title = "t", severity = "low", basis = "b", on = { "case.filed" }, check = function(case, ev)
  if ev.data.note == "x" then
    report { message = "x" }
  end
  local w = word(1)
  return w
end }
deadline { id = "COV-D", title = "t", severity = "low", basis = "b", start = "case.accepted", stop = "case.filed", period = { days = 3 }, lead = { days = 1 } }
