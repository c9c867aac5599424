-- A burst of pre-signed status callbacks (`signature<TAB>body` per line, made by
-- `roomlog-bench-loader callbacks`), each sent once: `wrk -t1 ... -s burst.lua URL -- FILE`.
-- When the last callback is answered it prints one JSON line, the wall-clock times of the first
-- callback sent and the last one answered, and stops sending (wrk itself runs out its -d; the
-- driver stops it once the line is out). Connections that find the list used up ask for
-- /healthz until then.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } roomlog_timeval;
  int gettimeofday(roomlog_timeval *tv, void *tz);
]]
local signed = require("signed")
local function now()
  local tv = ffi.new("roomlog_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local signatures, bodies = {}, {}
local sent, answered, first_sent = 0, 0, nil
-- wrk 4.1 calls request() once before the run to check what it returns, and sends nothing for
-- that call: it gets a /healthz, so no callback is lost to it.
local checked = false

function init(args)
  signatures, bodies = signed.load(args[1])
end

function request()
  if not checked or sent >= #bodies then
    checked = true
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  if sent == 1 then
    first_sent = now()
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[sent],
  }, bodies[sent])
end

-- A callback is answered 204 and /healthz 200; anything else is a failed burst.
function response(status, headers, body)
  if status == 204 then
    answered = answered + 1
  elseif status ~= 200 then
    io.write(string.format('{"error": "HTTP %d"}\n', status))
    io.flush()
    wrk.thread:stop()
  end
  if answered == #bodies then
    io.write(string.format('{"callbacks": %d, "first_sent": %.6f, "last_answered": %.6f}\n',
      answered, first_sent, now()))
    io.flush()
    wrk.thread:stop()
  end
end
