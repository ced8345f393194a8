-- wrk script for bench_lending.py: unique request ids, random borrowers, status counts.
local threads = {}

-- request ids: "<run nonce from the command line>-<thread>-<counter>", unique across runs on one database
function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  codes = {}
  tid = (args[1] or "run") .. "-" .. thread_no
  math.randomseed(os.time() * 1000 + thread_no)
end

function request()
  counter = counter + 1
  local body = string.format('{"request_id":"%s-%d","user_id":"u%d","amount":100}',
                             tid, counter, math.random(1, 10000000))
  return wrk.format("POST", "/v1/loans", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  local code = string.match(body, '"code":"([%u_]+)"') or ("HTTP_" .. status)
  codes[code] = (codes[code] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("codes")) do
      total[code] = (total[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(total) do
    table.insert(parts, code .. "=" .. n)
  end
  table.sort(parts)
  io.write("CODES " .. table.concat(parts, " ") .. "\n")
end
