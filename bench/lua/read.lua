-- Plain reads (page, .json, the ceiling): wrk builds the request once and never hands the
-- body to Lua, so the client costs as little as possible. done() prints wrk's own figures.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"kind": "read", "count": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "span_s": %.4f, "statuses": {"non-2xx/3xx": %d}, "socket_errors": %d}\n',
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout))
end
