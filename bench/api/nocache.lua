-- wrk script: every request gets a target of its own by appending a nonce query parameter that
-- the hub ignores. The hub's read cache is keyed by the request target, so no request is
-- answered from it: each one runs the SQL queries and builds the JSON, as the first request
-- after every committed write does.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = 0
  separator = string.find(wrk.path, "?", 1, true) and "&" or "?"
end

function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. separator .. "nonce=" .. tid .. "-" .. counter)
end
