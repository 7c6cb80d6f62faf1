-- wrk script for bench/run.sh: sends the pre-signed SMS webhooks that
-- `examples/bench_requests.rs` wrote, each exactly once.
--
--   wrk -t2 -c32 -d10s --latency -s bench/intake.lua URL -- PREFIX
--
-- Thread i sends the requests in PREFIX.i (bench_requests --split must be at least wrk's
-- -t), in order: no two threads share a request. Each file holds complete HTTP requests,
-- each preceded by its length in 8 decimal digits; `init` only reads the file into one
-- string (wrk starts the first thread before it has initialised the others, so a slow
-- `init` would let one thread run unmeasured), and `request` slices the next one.
-- Running out wraps around, and the requests become replays: `done` counts them
-- (`replays=`) so a run that wrapped can be told apart.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local prefix = args[1] or error("usage: -- PREFIX")
   -- `id` was set by setup() through thread:set, which wrk runs just before init.
   local f = assert(io.open(prefix .. "." .. id, "rb"))
   data = f:read("*a")
   f:close()
   assert(#data > 8, "no requests in " .. prefix .. "." .. id)
   pos = 1
   sent = 0
   first_pass = -1
end

function request()
   if pos > #data then
      pos = 1
      if first_pass < 0 then
         first_pass = sent
      end
   end
   local len = tonumber(data:sub(pos, pos + 7))
   local req = data:sub(pos + 8, pos + 7 + len)
   pos = pos + 8 + len
   sent = sent + 1
   return req
end

function done(summary, latency, requests)
   -- Requests a thread sent after going round its file once (wrk builds one or two more
   -- than it completes, so this may overcount by a few).
   local replays = 0
   for _, t in ipairs(threads) do
      local first = t:get("first_pass") or -1
      if first >= 0 then
         replays = replays + (t:get("sent") - first)
      end
   end
   local errors = summary.errors
   local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d replays=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      errors.status, socket_errors, replays))
end
