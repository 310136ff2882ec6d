-- Post details, each slug once (`slugs=@file`, `prefix=` the path before the slug): the threads
-- share the list, and a thread whose part is done stops, so no request repeats one before it.
local common = require("common")

setup = common.setup
response = common.response
done = common.done

local options, slugs
local sent = 0

function init(args)
  options = common.options(args)
  slugs = common.lines(options.slugs:sub(2))
end

function request()
  common.started()
  local index = sent * tonumber(options.threads) + tid + 1
  sent = sent + 1
  if index > #slugs then
    stopped = 1
    wrk.thread:stop()
    index = (index - 1) % #slugs + 1
  end
  return wrk.format("GET", options.prefix .. slugs[index])
end
