-- GETs the paths listed in a file (one per line), in turn, with the benchmark account's Basic
-- credentials: `wrk ... -s urls.lua URL -- LISTFILE AUTH`. Each connection starts at a
-- different line so that a list is never read in lockstep.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local report = require("report")

local paths = {}
local next_index = 1

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  wrk.headers["Authorization"] = "Basic " .. args[2]
  next_index = math.random(#paths)
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

done = report.done
