-- bench_serve.lua — the wrk script of bench/bench_serve.sh.
--
--   wrk -s bench/bench_serve.lua URL -- MODE TOKEN [ARG]
--
-- MODE
--   static          GET the path of URL (the baseline: /healthz or a /ui/ file)
--   append ART DIR  POST /v1/artifacts/ART/blocks?commit=1, a small JSON text
--                   block each (durable one-shot append), keep-alive; the
--                   body of every 201 ({"index","id",...}) is written, one a
--                   line, to DIR/ack.N (N: the wrk thread)
--   read ART N      GET /v1/artifacts/ART/blocks/I, I uniform in 0..N-1
--   search ART      GET /v1/artifacts/ART/search?q=...&k=10, queries in turn
--
-- Every response status is counted per thread (201, other 2xx, the rest);
-- done() prints one line the shell parses:
--   WRK requests=R seconds=S rps=X p50_us=A p99_us=B s201=C s2xx=D sother=E
--       socket_errors=F
-- s201 is what the clients were told was committed (append mode): the
-- shell compares it with the blocks in the artifact after the run.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local mode, token, art, nblocks
local req, queries, qi

function init(args)
   mode = args[1] or "static"
   token = args[2] or ""
   art = args[3] or "bench"
   nblocks = tonumber(args[4] or "1") or 1
   s201, s2xx, sother = 0, 0, 0
   local headers = {}
   if token ~= "" and token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
   end
   if mode == "append" then
      if args[4] then
         ackf = io.open(args[4] .. "/ack." .. (tid or 0), "a")
         ackf:setvbuf("line")
      end
      headers["Content-Type"] = "application/json"
      local body = '{"type":"text","text":"wrk append: a small durable block of about one hundred bytes",' ..
         '"meta":{"source":"wrk"}}'
      req = wrk.format("POST", "/v1/artifacts/" .. art .. "/blocks?commit=1", headers, body)
   elseif mode == "read" then
      rheaders = headers
      math.randomseed(os.time() * 100 + (tid or 0))
   elseif mode == "search" then
      queries = {"memory of the agent", "small durable block", "animal that lives in water",
                 "a person who writes", "the colour of the sky", "tool for cutting wood",
                 "musical instrument with strings", "city by the sea"}
      qi = 0
      rheaders = headers
   else
      req = wrk.format("GET", wrk.path, headers)
   end
end

local function urlencode(s)
   return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
   if mode == "read" then
      local i = math.random(0, nblocks - 1)
      return wrk.format("GET", "/v1/artifacts/" .. art .. "/blocks/" .. i, rheaders)
   elseif mode == "search" then
      qi = qi % #queries + 1
      return wrk.format("GET", "/v1/artifacts/" .. art .. "/search?k=10&q=" .. urlencode(queries[qi]), rheaders)
   end
   return req
end

function response(status, headers, body)
   if status == 201 then
      s201 = s201 + 1
      if ackf then
         ackf:write(body, "\n")
      end
   elseif status >= 200 and status < 300 then
      s2xx = s2xx + 1
   else
      sother = sother + 1
   end
end

function done(summary, latency, requests)
   local a, b, c = 0, 0, 0
   for _, t in ipairs(threads) do
      a = a + (t:get("s201") or 0)
      b = b + (t:get("s2xx") or 0)
      c = c + (t:get("sother") or 0)
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "WRK requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d s201=%d s2xx=%d sother=%d socket_errors=%d\n",
      summary.requests, secs, summary.requests / secs, latency:percentile(50), latency:percentile(99),
      a, b, c, e.connect + e.read + e.write + e.timeout))
end
