-- wrk script for bench/scan.py: every wrk thread is one visitor on one connection.
--
-- wrk's Lua state is per thread, not per connection, so scan.py runs wrk with as many
-- threads as connections (-t N -c N): one thread = one connection = one visitor.
--
-- Arguments after "--": MODE PATH...
--   MODE "scan": GET each path in turn (station URLs /s/<code>), sending the pt_v
--                cookie that the visitor's first response set. When a visitor has
--                scanned every station once, the connection drops the cookie and the
--                next scan starts a new visitor: every scan is a first visit at that
--                station (an event and a progress write), as on a real tour. (Scanning
--                the same station again within seconds is a double tap to promtour:
--                no event, no write; a visitor going round in circles would measure
--                that shortcut instead of a scan.)
--   MODE "ref":  POST a small JSON body {"station": ..., "visitor": ...} to PATH[1]
--                (the reference app), rotating over the station names that follow.
--
-- done() prints one line "BENCH {json}" that scan.py parses.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local mode, paths, target, visitor
local i = 0
-- Globals, so that done() can read them with thread:get().
cookie = nil
ok, other = 0, 0
visitors = 0
local scanned = 0

function init(args)
  mode = args[1]
  paths = {}
  for n = 2, #args do
    paths[#paths + 1] = args[n]
  end
  -- Start every visitor at a different station, as on a real factory floor.
  i = (id or 0) % #paths
  visitor = string.format("bench%08x%08x", id or 0, math.floor(os.time()) % 0xffffffff)
  if mode == "ref" then
    target = table.remove(paths, 1)
    i = (id or 0) % #paths
  end
end

function request()
  i = i % #paths + 1
  if mode == "scan" then
    scanned = scanned + 1
    if scanned > #paths then
      cookie = nil -- this visitor has seen every station: a new visitor takes over
      scanned = 1
    end
  end
  if mode == "ref" then
    local body = '{"station":"' .. paths[i] .. '","visitor":"' .. visitor .. '"}'
    return wrk.format("POST", target, { ["Content-Type"] = "application/json" }, body)
  end
  if cookie then
    return wrk.format("GET", paths[i], { ["Cookie"] = cookie })
  end
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
  if cookie == nil and mode == "scan" then
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    if set then
      cookie = string.match(set, "(pt_v=[^;]+)")
      if cookie then
        visitors = visitors + 1
      end
    end
  end
end

function done(summary, latency, requests)
  local ok_total, other_total = 0, 0
  visitors = 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + (thread:get("ok") or 0)
    other_total = other_total + (thread:get("other") or 0)
    visitors = visitors + (thread:get("visitors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "ok": %d, "not_ok": %d, '
      .. '"visitors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, ok_total, other_total, visitors,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
