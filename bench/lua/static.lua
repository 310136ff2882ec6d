-- The same request every time: `method=`, `body=@file`, `header=Name: value` (any number).
local common = require("common")

setup = common.setup
response = common.response
done = common.done

function init(args)
  local options = common.options(args)
  common.window(options)
  wrk.method = options.method or "GET"
  if options.body then
    wrk.body = common.read(options.body:sub(2))
  end
  for name, value in pairs(options.header) do
    wrk.headers[name] = value
  end
end
