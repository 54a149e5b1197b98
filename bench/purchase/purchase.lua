-- wrk script for bench/purchase/run.sh: wallet purchases over the JSON API.
--
-- Run wrk with as many threads as connections (-tN -cN): each thread then
-- owns one connection and a group of readers. PURCHASE_MODE=onestep (the
-- default) buys with one call,
--   POST /api/v1/orders {"document_id": D, "pay": "wallet"}
-- counted when answered 201 with "status":"paid"; twostep alternates
--   POST /api/v1/orders {"document_id": D}       (a document the reader lacks)
--   POST /api/v1/orders/{id}/pay {"method": "wallet"}
-- using the order id from the previous answer, counted when the pay answer
-- is 200 with "status":"paid". Either way for its readers in turn.
--
-- Environment (read in setup, in wrk's main Lua state):
--   PURCHASE_TOKENS      file with one bearer token per line
--   PURCHASE_PER_THREAD  readers per wrk thread (thread n takes the n-th group
--                        of lines from PURCHASE_TOKENS)
--   PURCHASE_DOCS        file with one document id per line
--   PURCHASE_START       where this run starts in each thread's sequence
-- Purchase k of a thread (k = PURCHASE_START, PURCHASE_START+1, ...) is made
-- by reader k % PER_THREAD of its group and buys document k / PER_THREAD, so
-- no reader buys a document twice across runs. A thread whose readers have
-- bought every document sends GET /healthz instead and counts it as
-- "exhausted" (the run is then invalid: raise DOCS).

local threads = {}
local tokens = {}
local docs_file = os.getenv("PURCHASE_DOCS")
local start_index = tonumber(os.getenv("PURCHASE_START") or "0")
local per_thread = tonumber(os.getenv("PURCHASE_PER_THREAD") or "1")
local mode = os.getenv("PURCHASE_MODE") or "onestep"
assert(mode == "onestep" or mode == "twostep", "PURCHASE_MODE must be onestep or twostep")

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then table.insert(out, line) end
  end
  f:close()
  return out
end

function setup(thread)
  if #tokens == 0 then tokens = read_lines(os.getenv("PURCHASE_TOKENS")) end
  local n = #threads
  local first = n * per_thread + 1
  assert(first + per_thread - 1 <= #tokens, "more wrk threads than reader groups")
  thread:set("token_list", table.concat(tokens, ",", first, first + per_thread - 1))
  thread:set("docs_file", docs_file)
  thread:set("start_index", start_index)
  thread:set("per_thread", per_thread)
  thread:set("mode", mode)
  table.insert(threads, thread)
end

function init(args)
  docs = read_lines(docs_file)
  auths = {}
  for t in string.gmatch(token_list, "[^,]+") do table.insert(auths, "Bearer " .. t) end
  k = start_index       -- next purchase in this thread's sequence
  pending_order = nil   -- order id to pay next
  pending_auth = nil    -- and whose it is
  last = nil            -- what the last request was: "order" | "pay" | "idle"
  ordered, paid, failed, exhausted = 0, 0, 0, 0
end

function request()
  if pending_order then
    local id = pending_order
    pending_order = nil
    last = "pay"
    return wrk.format("POST", "/api/v1/orders/" .. id .. "/pay",
                      {["Authorization"] = pending_auth, ["Content-Type"] = "application/json"},
                      '{"method":"wallet"}')
  end
  local doc = docs[math.floor(k / per_thread) + 1]
  if not doc then
    last = "idle"
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz")
  end
  pending_auth = auths[k % per_thread + 1]
  k = k + 1
  if mode == "onestep" then
    last = "buy"
    return wrk.format("POST", "/api/v1/orders",
                      {["Authorization"] = pending_auth, ["Content-Type"] = "application/json"},
                      '{"document_id":' .. doc .. ',"pay":"wallet"}')
  end
  last = "order"
  return wrk.format("POST", "/api/v1/orders",
                    {["Authorization"] = pending_auth, ["Content-Type"] = "application/json"},
                    '{"document_id":' .. doc .. '}')
end

function response(status, headers, body)
  if last == "buy" then
    if status == 201 and body:find('"status"%s*:%s*"paid"') then
      ordered = ordered + 1
      paid = paid + 1
    else
      failed = failed + 1
    end
  elseif last == "order" then
    local id = (status == 200 or status == 201) and body:match('"id"%s*:%s*(%d+)')
    if id then
      ordered = ordered + 1
      pending_order = id
    else
      failed = failed + 1
    end
  elseif last == "pay" then
    if status == 200 and body:find('"status"%s*:%s*"paid"') then
      paid = paid + 1
    else
      failed = failed + 1
    end
  end
end

function done(summary, latency, requests)
  local o, p, f, e, used = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ordered")
    p = p + t:get("paid")
    f = f + t:get("failed")
    e = e + t:get("exhausted")
    local u = t:get("k") - t:get("start_index")
    if u > used then used = u end
  end
  local secs = summary.duration / 1e6
  io.write(string.format("purchase: ordered %d paid %d failed %d exhausted %d sequence_used %d seconds %.3f purchases_per_sec %.2f\n",
                         o, p, f, e, used, secs, p / secs))
end
