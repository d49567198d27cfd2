-- (d) confirming: open the link from the e-mail (a page with one button; GET never
-- confirms), then POST it. args: max_requests, tokens file ("slug token" per line), "".
-- Thread i takes lines i, i+N, i+2N, ... where N is the thread count (PARAM2).
local links = {}
local next_link = 1
local step = "page"
local cookie, token

function scenario_init()
  local nthreads = tonumber(PARAM2)
  local i = 0
  for line in io.lines(PARAM) do
    if i % nthreads == tid then
      local slug, raw = string.match(line, "^(%S+)%s+(%S+)$")
      if slug ~= nil then links[#links + 1] = "/p/" .. slug .. "/confirm/" .. raw end
    end
    i = i + 1
  end
end

function scenario_request()
  local link = links[next_link]
  if link == nil then return nil end
  if step == "page" or token == nil then
    return "confirm-page", "GET", link, cookie_headers(cookie), nil
  end
  return "confirm", "POST", link, form_headers(cookie), "csrf_token=" .. urlencode(token)
end

function scenario_response(kind, status, headers, body)
  cookie = cookie_from(headers, cookie)
  if kind == "confirm-page" then
    if status ~= 200 then -- a dead link (recorded in the statuses): go on with the next one
      next_link = next_link + 1
      return
    end
    token = csrf_from(body) or token
    step = "confirm"
  else
    step = "page"
    next_link = next_link + 1
  end
end
