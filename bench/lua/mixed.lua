-- (e) a viral spike: 95% of requests read the petition page, 5% are signature POSTs
-- (each with the CSRF token from that connection's last page view).
-- args: max_requests, slug, "run-id consent-slug".
local cookie, token
local n = 0

function scenario_init()
  SLUG = PARAM
  RUN, CONSENT = string.match(PARAM2, "^(%S+)%s+(%S+)$")
end

function scenario_request()
  if token ~= nil and math.random() < 0.05 then
    n = n + 1
    local email = string.format("bench-%s-%d-%d@example.org", RUN, tid, n)
    local body = "name=" .. urlencode(string.format("Mixed Supporter %d-%d", tid, n))
      .. "&email=" .. urlencode(email) .. "&country=FR&consent=" .. urlencode(CONSENT)
      .. "&csrf_token=" .. urlencode(token)
    return "sign", "POST", "/p/" .. SLUG .. "/sign", form_headers(cookie), body
  end
  return "page", "GET", "/p/" .. SLUG, cookie_headers(cookie), nil
end

function scenario_response(kind, status, headers, body)
  cookie = cookie_from(headers, cookie)
  if kind == "page" then token = csrf_from(body) or token end
end
