-- POSTs pre-signed status callbacks (`signature<TAB>body` per line, made by
-- `roomlog-bench-loader callbacks`), each once: `wrk ... -s callbacks.lua URL -- FILE`.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local report = require("report")
local signed = require("signed")

local signatures, bodies = {}, {}
local next_index = 1

function init(args)
  signatures, bodies = signed.load(args[1])
end

function request()
  local i = next_index
  if i > #bodies then
    error("out of pre-signed callbacks: make more with --count")
  end
  next_index = i + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[i],
  }, bodies[i])
end

done = report.done
