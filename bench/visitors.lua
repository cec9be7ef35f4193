-- Loads one page with a new anonymous visitor in every request, as a topic linked from
-- elsewhere draws a crowd: Kizuna tells anonymous visitors apart by address and browser, so
-- each request names a browser of its own (the address is wrk's, the same for all).
--   wrk -t2 -c16 -d10s -s bench/visitors.lua http://127.0.0.1:8000 -- /t/1 2

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  path = args[1]
  step = tonumber(args[2] or "1")
  index = tonumber(id or 0)
end

function request()
  index = index + step
  local agent = string.format("kizuna-bench-visitor/%d", index)
  return wrk.format("GET", path, { ["User-Agent"] = agent })
end
