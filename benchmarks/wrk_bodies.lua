-- wrk script: POST each line of a file once and count the answers.
-- Usage: wrk -t T -c C -d D -s wrk_bodies.lua URL -- BODIES_FILE PATH TOKEN T
-- Thread i of T sends lines i, i+T, i+2T, ... once each: a registration sent twice would
-- be a 409, not a registration. Once a thread's lines run out, its connections send
-- GET /health (200, neither created nor refused) until its last POST is answered; then
-- the thread prints one line of figures. wrk itself runs to its full duration, so the
-- caller stops it once every thread has printed.

local ffi = require("ffi")
ffi.cdef[[
  struct bench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clock, struct bench_timespec *now);
]]
local CLOCK_MONOTONIC = 1

local function now_us()
  local t = ffi.new("struct bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, t)
  return tonumber(t.tv_sec) * 1000000 + tonumber(t.tv_nsec) / 1000
end

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local file, path, token, total = args[1], args[2], args[3], tonumber(args[4])
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  post_path = path
  bodies = {}
  local n = 0
  for line in io.lines(file) do
    if n % total == id then
      table.insert(bodies, line)
    end
    n = n + 1
  end
  next_body = 1
  created = 0
  refused = 0
  checked = false
  started = nil
  finished = false
end

function request()
  if not checked then
    -- wrk calls request() once before the run to check what it builds: spend no body on it
    checked = true
    return wrk.format("GET", "/health")
  end
  if started == nil then
    started = now_us()
  end
  local body = bodies[next_body]
  if body == nil then
    return wrk.format("GET", "/health")
  end
  next_body = next_body + 1
  return wrk.format("POST", post_path, nil, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status >= 400 then
    refused = refused + 1
  end
  if not finished and created + refused >= #bodies then
    finished = true
    io.write(string.format(
      "WRK thread=%d created=%d refused=%d started_us=%d finished_us=%d\n",
      id, created, refused, started, now_us()))
    io.flush()
    wrk.thread:stop()
  end
end
