-- Shared by the benchmark's wrk scripts (LUA_PATH points here). Each thread counts the statuses
-- it receives; at the end the main state prints one line, `BENCH {json}`, which the harness
-- (fastdjango_bench.harness.wrk) parses. Script arguments (after `--`) are `key=value`; a value
-- `@path` is read from that file, one item per line.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]

local M = {}
local clock = ffi.new("bench_timespec")
local threads = {}

-- Per-thread state, read by done() through thread:get().
statuses = {}
first = 0
last = 0
stopped = 0
windowed = 0
-- The measuring window (CLOCK_MONOTONIC seconds, `window=start,end`): the harness samples CPU and
-- statement counts at its ends, and these are the responses received within it.
local window_from, window_to = 0, 0

function M.now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

function M.lines(path)
  local items = {}
  for line in io.lines(path) do
    if line ~= "" then
      items[#items + 1] = line
    end
  end
  return items
end

function M.read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

-- key=value arguments; `header=Name: value` may repeat.
function M.options(args)
  local options = { header = {} }
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    assert(key, "bench: argument is not key=value: " .. arg)
    if key == "header" then
      local name, header = value:match("^([^:]+):%s*(.*)$")
      options.header[name] = header
    else
      options[key] = value
    end
  end
  return options
end

function M.setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- Called by each script's init(): `window=` is an option of every script.
function M.window(options)
  if options.window then
    local from, to = options.window:match("^([%d.]+),([%d.]+)$")
    window_from, window_to = tonumber(from), tonumber(to)
  end
end

function M.started()
  if first == 0 then
    first = M.now()
  end
end

function M.response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  last = M.now()
  if last >= window_from and last < window_to then
    windowed = windowed + 1
  end
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- base64url without padding (the cursors' encoding).
function M.b64url(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = (b and (c and 4 or 3)) or 2
    for j = 1, chars do
      local shift = 18 - 6 * (j - 1)
      local index = math.floor(n / 2 ^ shift) % 64
      out[#out + 1] = B64:sub(index + 1, index + 1)
    end
  end
  return table.concat(out)
end

function M.done(summary, latency, requests)
  local total, from, to, stops, inside = {}, nil, 0, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    local started = thread:get("first")
    if started > 0 and (from == nil or started < from) then
      from = started
    end
    to = math.max(to, thread:get("last"))
    stops = stops + thread:get("stopped")
    inside = inside + thread:get("windowed")
  end
  local counts = {}
  for status, count in pairs(total) do
    counts[#counts + 1] = string.format('"%s":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"statuses":{%s},"elapsed":%.6f,"stopped":%d,"windowed":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, table.concat(counts, ","), from and (to - from) or 0, stops, inside))
end

return M
