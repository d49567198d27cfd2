-- PostgreSQL outage under load: loaded after lua/mixed.lua (95% page reads, 5% signature POSTs),
-- it adds a timeline: when the first and last 503 came, and how many requests succeeded after
-- the last 503 (recovery without a restart).
first_503 = 0
last_503 = 0
ok_after_503 = 0

local mixed_response = scenario_response

function scenario_response(kind, status, headers, body)
  if status == 503 then
    local t = now_us()
    if first_503 == 0 then first_503 = t end
    last_503 = t
    ok_after_503 = 0
  elseif status < 400 and last_503 > 0 then
    ok_after_503 = ok_after_503 + 1
  end
  mixed_response(kind, status, headers, body)
end

function scenario_done(threads)
  local first, last, after = nil, 0, 0
  for _, t in ipairs(threads) do
    local f, l = t:get("first_503"), t:get("last_503")
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
    after = after + t:get("ok_after_503")
  end
  io.write(string.format('OUTAGE {"first_503_us": %.0f, "last_503_us": %.0f, "ok_after_last_503": %d}\n',
    first or 0, last, after))
end
