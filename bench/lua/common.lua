-- Shared by the stateful scenarios (sign, confirm, mixed). wrk runs one Lua state per
-- thread; the benchmark starts one connection per thread (-tN -cN), so requests and
-- responses strictly alternate and per-connection state (cookie, CSRF token) is simple.
--
-- Each thread records, per kind of request, its latencies (microseconds, monotonic clock
-- through LuaJIT's FFI) and status codes; done() prints one JSON line per kind
-- ("BENCH {...}") for bench/run.py. A thread stops after MAX_REQUESTS (bounded load).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: comparable across threads
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Per-thread state. wrk's thread:get() copies values between Lua states but crashes on
-- nested tables, so each kind gets flat globals: lat_<i> (latencies in microseconds) and
-- st_<i> (status -> count); kind_names lists the kinds in order, comma-separated.
local kind_index = {}
local kind_count = 0
kind_names = ""
first_start = nil
last_end = nil
sent = 0
local inflight_kind, inflight_t0

function init(args)
  MAX_REQUESTS = tonumber(args[1]) or 100000
  PARAM = args[2] or ""
  PARAM2 = args[3] or ""
  math.randomseed(tid * 7919 + 17)
  if scenario_init then scenario_init() end
end

-- scenario_request() returns kind, method, path, headers, body
function request()
  local kind, method, path, headers, body = scenario_request()
  if kind == nil then
    wrk.thread:stop()
    return wrk.format("GET", "/healthz") -- never sent once the thread stops
  end
  inflight_kind = kind
  inflight_t0 = now_us()
  if first_start == nil then first_start = inflight_t0 end
  sent = sent + 1
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local t1 = now_us()
  local kind = inflight_kind
  if kind ~= nil then
    local i = kind_index[kind]
    if i == nil then
      kind_count = kind_count + 1
      i = kind_count
      kind_index[kind] = i
      kind_names = (#kind_names == 0) and kind or (kind_names .. "," .. kind)
      _G["lat_" .. i] = {}
      _G["st_" .. i] = {}
    end
    local l = _G["lat_" .. i]
    l[#l + 1] = t1 - inflight_t0
    local s = _G["st_" .. i]
    local key = tostring(status)
    s[key] = (s[key] or 0) + 1
    last_end = t1
    scenario_response(kind, status, headers, body)
  end
  if sent >= MAX_REQUESTS then wrk.thread:stop() end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local i = math.ceil(#sorted * p)
  if i < 1 then i = 1 end
  return sorted[i]
end

function done(summary, latency, requests)
  local all_lat, all_status = {}, {}
  local t_first, t_last = nil, nil
  for _, t in ipairs(threads) do
    local names = t:get("kind_names") or ""
    local i = 0
    for kind in string.gmatch(names, "[^,]+") do
      i = i + 1
      local values = t:get("lat_" .. i) or {}
      local into = all_lat[kind]
      if into == nil then into = {}; all_lat[kind] = into end
      for j = 1, #values do into[#into + 1] = values[j] end
      local codes = t:get("st_" .. i) or {}
      local sinto = all_status[kind]
      if sinto == nil then sinto = {}; all_status[kind] = sinto end
      for code, n in pairs(codes) do sinto[code] = (sinto[code] or 0) + n end
    end
    local fs, le = t:get("first_start"), t:get("last_end")
    if fs ~= nil and (t_first == nil or fs < t_first) then t_first = fs end
    if le ~= nil and (t_last == nil or le > t_last) then t_last = le end
  end
  for kind, values in pairs(all_lat) do
    table.sort(values)
    local codes = {}
    for code, n in pairs(all_status[kind] or {}) do codes[#codes + 1] = string.format('"%s": %d', code, n) end
    io.write(string.format(
      'BENCH {"kind": "%s", "count": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "span_s": %.4f, "statuses": {%s}, "socket_errors": %d}\n',
      kind, #values, percentile(values, 0.50) / 1000, percentile(values, 0.99) / 1000,
      values[#values] / 1000, ((t_last or 0) - (t_first or 0)) / 1e6, table.concat(codes, ", "),
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  end
  io.write(string.format('CLOCK {"first_start_us": %.0f, "last_end_us": %.0f}\n', t_first or 0, t_last or 0))
  if scenario_done then scenario_done(threads) end
end

-- helpers for the form flows ---------------------------------------------------------------

function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function csrf_from(body)
  if body == nil then return nil end
  local token = string.match(body, 'name="csrf_token"[^>]-value="([^"]+)"')
  if token == nil then token = string.match(body, 'value="([^"]+)"[^>]-name="csrf_token"') end
  if token ~= nil then token = string.gsub(token, "&#43;", "+") end
  return token
end

-- The session cookie carries the CSRF secret; keep whatever the server last set.
function cookie_from(headers, current)
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set == nil then return current end
  local pair = string.match(set, "^([^;]+)")
  return pair or current
end

function form_headers(cookie)
  local h = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  if cookie ~= nil then h["Cookie"] = cookie end
  return h
end

function cookie_headers(cookie)
  if cookie == nil then return {} end
  return { ["Cookie"] = cookie }
end
