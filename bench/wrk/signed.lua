-- Shared by callbacks.lua and burst.lua: reads a file of pre-signed callbacks
-- (`signature<TAB>body` per line, made by `roomlog-bench-loader callbacks`).
local signed = {}

function signed.load(path)
  local signatures, bodies = {}, {}
  for line in io.lines(path) do
    local signature, body = line:match("^([^\t]+)\t(.*)$")
    if signature then
      signatures[#signatures + 1] = signature
      bodies[#bodies + 1] = body
    end
  end
  return signatures, bodies
end

return signed
