-- Shared by the wrk scripts: one JSON line with throughput, latency percentiles and errors,
-- which bench/run.py reads.
local report = {}

function report.done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"non2xx": %d, "socket_errors": %d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end

return report
