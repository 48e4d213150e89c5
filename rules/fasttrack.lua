-- Section 2 of DOMAIN.md: fast-track (快速办理) violations.
--
-- A case is fast-tracked from its case.fasttrack event on; the suspects
-- are the persons with role suspect. Ages are taken at the offence time
-- (case.offence_at: data.offence_at of case.accepted, else its time).

local BASIS_41 = "公安机关办理行政案件程序规定 第41条: 违法嫌疑人为未成年人、盲、聋、哑人或者尚未完全丧失辨认或者控制自己行为能力的精神病人, 可能被处以行政拘留十日以上, 或者依法应当举行听证的, 不适用快速办理"

-- The first case.fasttrack at or before time t, or nil.
local function fasttracked(case, t)
  local ft = case:first("case.fasttrack")
  if ft and ft.at <= t then return ft end
  return nil
end

local EXCLUDED_FLAGS = { blind = "盲人", deaf = "聋人", mute = "哑人", mental = "精神病人" }
local FLAG_ORDER = { "blind", "deaf", "mute", "mental" }

rule {
  id = "FT-EXCLUDED-PERSON",
  title = "快速办理适用于不得快速办理的违法嫌疑人",
  severity = "high",
  basis = BASIS_41 .. " (第1项)",
  on = { "case.fasttrack", "person.added" },
  check = function(case, ev)
    local ft = case:first("case.fasttrack")
    if not ft then return end
    -- the latest person.added of each suspect: when we learnt who they are
    local seen = {}
    for p in case:events("person.added") do seen[p.data.person] = p end
    for _, person in ipairs(case:persons("suspect")) do
      local why = {}
      local age = case:age(person.id)
      if age and age < 18 then why[#why + 1] = "未成年人 (" .. age .. " 周岁)" end
      for _, flag in ipairs(FLAG_ORDER) do
        if person.flags[flag] then why[#why + 1] = EXCLUDED_FLAGS[flag] end
      end
      if #why > 0 then
        local added = seen[person.id]
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
}

rule {
  id = "FT-NO-CONSENT",
  title = "快速办理未经违法嫌疑人书面同意",
  severity = "high",
  basis = "公安机关办理行政案件程序规定 第42条: 快速办理案件前, 应当书面告知违法嫌疑人快速办理的相关规定, 征得其同意, 并由其签名确认",
  on = { "case.fasttrack" },
  check = function(case, ev)
    if ev.data.consent ~= true then
      report {
        message = "适用快速办理未取得违法嫌疑人书面同意 (" .. datetime(ev.at) .. ")",
      }
    end
  end,
}

rule {
  id = "FT-DETENTION-10D",
  title = "快速办理案件处以十日以上行政拘留",
  severity = "high",
  basis = BASIS_41 .. " (第3项)",
  on = { "penalty.decided" },
  check = function(case, ev)
    local ft = fasttracked(case, ev.at)
    local days = ev.data.detention_days
    if ft and days and days >= 10 then
      report {
        subject = ev.data.person,
        message = "快速办理的案件对 " .. ev.data.person .. " 决定行政拘留 " .. days ..
                  " 日, 可能处十日以上行政拘留的案件不适用快速办理",
        events = { ft, ev },
      }
    end
  end,
}

-- The hearing threshold changed with the law: PSAL 2025 Art 117 (from
-- 2026-01-01) requires a hearing for fines of 4000 yuan or more on a
-- person; under the 2012 law it was 2000. The decision's date picks the
-- version.
local function ft_hearing(version)
  rule {
    id = "FT-HEARING",
    title = "快速办理依法应当听证的案件",
    severity = "high",
    basis = BASIS_41 .. " (第2项); " .. version.basis,
    effective = version.effective,
    on = { "penalty.decided" },
    check = function(case, ev)
      local ft = fasttracked(case, ev.at)
      if not ft then return end
      local why
      if ev.data.revoke_license == true then
        why = "吊销许可证件"
      elseif (ev.data.fine or 0) >= version.fine then
        why = "罚款 " .. ev.data.fine .. " 元 (" .. version.fine .. " 元以上)"
      end
      if why then
        report {
          message = "快速办理的案件对 " .. ev.data.person .. " 作出" .. why ..
                    "的处罚, 依法应当告知听证权利, 不适用快速办理",
          events = { ft, ev },
        }
      end
    end,
  }
end

ft_hearing {
  fine = 2000,
  effective = { to = "2025-12-31" },
  basis = "治安管理处罚法(2012修正) 第98条: 吊销许可证以及处二千元以上罚款的, 应当告知有权要求举行听证",
}
ft_hearing {
  fine = 4000,
  effective = { from = "2026-01-01" },
  basis = "治安管理处罚法(2025修订) 第117条: 吊销许可证件、处四千元以上罚款的, 应当告知有权要求举行听证",
}

rule {
  id = "FT-48H",
  title = "快速办理案件未在48小时内办结",
  severity = "high",
  basis = "公安机关办理行政案件程序规定 第47条: 对快速办理的案件, 公安机关应当在违法嫌疑人到案后48小时内作出处理决定",
  on = { "case.fasttrack", "person.added", "summons.started", "penalty.decided", "case.decided" },
  check = function(case, ev)
    if not case:first("case.fasttrack") then return end
    for _, person in ipairs(case:persons("suspect")) do
      -- when the suspect arrived: the first summons of that person
      local arrived
      for s in case:events("summons.started") do
        if s.data.person == person.id then arrived = s; break end
      end
      if arrived then
        local decided
        for d in case:events() do
          if d.at >= arrived.at and
             ((d.type == "penalty.decided" and d.data.person == person.id) or d.type == "case.decided") then
            decided = d
            break
          end
        end
        obligation {
          subject = person.id,
          due = arrived.at + hours(48),
          lead = hours(6),
          met = decided and decided.at,
          message = "违法嫌疑人 " .. person.id .. " 到案 " .. datetime(arrived.at) .. ", 期限 48 小时",
          events = decided and { arrived, decided } or { arrived },
        }
      end
    end
  end,
}
