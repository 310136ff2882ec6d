-- A cursor no request has used before, every request: `[ordering, bound, pk]` where the bounds
-- (`bounds=@file`, timestamps strictly between two posts with a full page after them) cycle and
-- pk counts up from `salt` (unique per run), so no two requests share a cache key.
-- `template=@file` is the path (GET) or the body (POST, with `path=`) with @CURSOR@ in it.
local common = require("common")

setup = common.setup
response = common.response
done = common.done

local options, bounds, head, tail, path, headers
local sent = 0

function init(args)
  options = common.options(args)
  common.window(options)
  bounds = common.lines(options.bounds:sub(2))
  local template = common.read(options.template:sub(2)):gsub("%s+$", "")
  head, tail = template:match("^(.-)@CURSOR@(.*)$")
  assert(head, "bench: the template has no @CURSOR@")
  headers = options.header
  path = options.path
end

function request()
  common.started()
  local threads = tonumber(options.threads)
  local bound = bounds[(sent * threads + tid) % #bounds + 1]
  local pk = tonumber(options.salt) * 1e8 + tid * 1e7 + sent
  sent = sent + 1
  local cursor = common.b64url(string.format('["%s","%s",%d]', options.ordering, bound, pk))
  if options.method == "POST" then
    return wrk.format("POST", path, headers, head .. cursor .. tail)
  end
  return wrk.format("GET", head .. cursor .. tail, headers)
end
