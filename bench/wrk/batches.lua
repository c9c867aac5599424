-- POSTs JSON batches (`roomlog-bench-loader batch-template`), each with fresh room SIDs:
-- `wrk ... -s batches.lua URL -- TEMPLATE AUTH RUN`.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local report = require("report")

local template
local counter = 0
local run = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  template = file:read("*a")
  file:close()
  wrk.headers["Authorization"] = "Basic " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  run = tonumber(args[3] or "0")
end

function request()
  counter = counter + 1
  local prefix = string.format("%08x%08x", run, counter)
  local body = template:gsub("XXXXXXXXXXXXXXXX", prefix)
  return wrk.format("POST", nil, nil, body)
end

done = report.done
