-- Post details by slug (`slugs=@file`, `prefix=` the path before the slug), the threads sharing
-- the list. With `once=1` a thread whose part is done stops, so no request repeats an earlier
-- one (a system with a cache); otherwise the list starts again (a system without one).
local common = require("common")

setup = common.setup
response = common.response
done = common.done

local options, slugs
local sent = 0

function init(args)
  options = common.options(args)
  common.window(options)
  slugs = common.lines(options.slugs:sub(2))
end

function request()
  common.started()
  local index = sent * tonumber(options.threads) + tid + 1
  sent = sent + 1
  if index > #slugs then
    if options.once == "1" then
      stopped = 1
      wrk.thread:stop()
    end
    index = (index - 1) % #slugs + 1
  end
  return wrk.format("GET", options.prefix .. slugs[index])
end
