-- Replays a prepared list of API write requests (reply, like, answer accept) with wrk.
--   wrk -t2 -c16 -d10s -s bench/requests.lua http://127.0.0.1:8000 -- requests.tsv 2
-- Each line of the file is METHOD<TAB>PATH<TAB>BEARER TOKEN<TAB>JSON BODY (may be empty).
-- Threads take interleaved lines (thread k of n sends lines k, k+n, k+2n, ...), so no two
-- requests repeat a line until the list is used up: every like is a fresh (member, post) pair.

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  requests = {}
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      local headers = { ["Authorization"] = "Bearer " .. token }
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
  end
  file:close()
  -- "id" is set on this thread's globals by setup(); args[2] is the number of threads.
  step = tonumber(args[2] or "1")
  index = tonumber(id or 0)
end

function request()
  local current = requests[(index % #requests) + 1]
  index = index + step
  return current
end
