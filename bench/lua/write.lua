-- Comments posted at a low rate (each connection waits `delay=` ms between requests) with a
-- token (`header=Authorization: Bearer ...`) to `path=`.
local common = require("common")

setup = common.setup
response = common.response
done = common.done

local options, headers
local sent = 0

function init(args)
  options = common.options(args)
  common.window(options)
  headers = options.header
  headers["Content-Type"] = "application/json"
end

function delay()
  return tonumber(options.delay)
end

function request()
  common.started()
  sent = sent + 1
  local body = string.format('{"body":"bench comment %d-%d"}', tid, sent)
  return wrk.format("POST", options.path, headers, body)
end
