-- (c) signing: GET the petition page (form + CSRF token + session cookie), then POST the
-- signature with a unique e-mail address. args: max_requests, slug, "run-id consent-slug".
local cookie, token
local n = 0
local step = "page"

function scenario_init()
  SLUG = PARAM
  RUN, CONSENT = string.match(PARAM2, "^(%S+)%s+(%S+)$")
end

function scenario_request()
  if step == "page" or token == nil then
    return "sign-page", "GET", "/p/" .. SLUG, cookie_headers(cookie), nil
  end
  n = n + 1
  local email = string.format("bench-%s-%d-%d@example.org", RUN, tid, n)
  local body = "name=" .. urlencode(string.format("Bench Supporter %d-%d", tid, n))
    .. "&email=" .. urlencode(email) .. "&country=GB&public=y&consent=" .. urlencode(CONSENT)
    .. "&csrf_token=" .. urlencode(token)
  return "sign", "POST", "/p/" .. SLUG .. "/sign", form_headers(cookie), body
end

function scenario_response(kind, status, headers, body)
  cookie = cookie_from(headers, cookie)
  if kind == "sign-page" then
    token = csrf_from(body) or token
    step = "sign"
  else
    step = "page"
  end
end
