-- PostgreSQL outage under load: the mixed load of lua/mixed.lua (95% page reads, 5% signature
-- POSTs), plus a timeline: when the first and last 503 came, and how many requests succeeded
-- after the last 503 (recovery without a restart). args: max_requests, slug, "run-id consent".
local cookie, token
local n = 0
first_503 = 0
last_503 = 0
ok_after_503 = 0

function scenario_init()
  SLUG = PARAM
  RUN, CONSENT = string.match(PARAM2, "^(%S+)%s+(%S+)$")
end

function scenario_request()
  if token ~= nil and math.random() < 0.05 then
    n = n + 1
    local email = string.format("bench-%s-%d-%d@example.org", RUN, tid, n)
    local body = "name=" .. urlencode(string.format("Outage Supporter %d-%d", tid, n))
      .. "&email=" .. urlencode(email) .. "&country=DE&consent=" .. urlencode(CONSENT)
      .. "&csrf_token=" .. urlencode(token)
    return "sign", "POST", "/p/" .. SLUG .. "/sign", form_headers(cookie), body
  end
  return "page", "GET", "/p/" .. SLUG, cookie_headers(cookie), nil
end

function scenario_response(kind, status, headers, body)
  cookie = cookie_from(headers, cookie)
  if status == 503 then
    local t = now_us()
    if first_503 == 0 then first_503 = t end
    last_503 = t
    ok_after_503 = 0
  elseif status < 400 then
    if last_503 > 0 then ok_after_503 = ok_after_503 + 1 end
    if kind == "page" then token = csrf_from(body) or token end
  end
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
