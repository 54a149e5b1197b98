-- wrk script for bench/isolation/run.sh: the background load that competes
-- with the anonymous document page. ISO_MODE picks what each connection does
-- in a loop:
--   login   POST /api/v1/auth/login {email, password}          expects 200
--   order   POST /api/v1/orders {"plan": ISO_PLAN}              expects 201,
--           then POST /api/v1/orders/{id}/pay {"method":"wechat"} expects 200
--           with a code_url (the stand-in gateway answers after its delay)
--   export  GET /api/v1/documents/{d}/download?format=pdf        expects 302,
--           then GET the signed link                            expects 200 %PDF
--           for documents d from ISO_DOCS, each thread its own share, each
--           document once (a repeat would be served from the render cache
--           and is counted as "repeats")
-- Environment (read in setup): ISO_MODE, ISO_EMAIL, ISO_PASSWORD (login),
-- ISO_TOKEN (order, export: a bearer token), ISO_PLAN (order), ISO_DOCS
-- (export: file with one document id per line).
-- order and export keep the pending second step per wrk thread: run them
-- with one connection per thread (-tN -cN).
-- done() prints one line: "load MODE requests R ok O failed F repeats P".

local threads = {}

function setup(thread)
  thread:set("mode", os.getenv("ISO_MODE") or "login")
  thread:set("email", os.getenv("ISO_EMAIL") or "")
  thread:set("password", os.getenv("ISO_PASSWORD") or "")
  thread:set("token", os.getenv("ISO_TOKEN") or "")
  thread:set("plan", os.getenv("ISO_PLAN") or "vip30")
  thread:set("docs_file", os.getenv("ISO_DOCS") or "")
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  ok, failed, repeats, sent = 0, 0, 0, 0
  auth = "Bearer " .. token
  next_path = nil   -- second step of a two-step exchange
  last = nil
  docs = {}
  if mode == "export" then
    local f = assert(io.open(docs_file, "r"))
    for line in f:lines() do if line ~= "" then table.insert(docs, line) end end
    f:close()
  end
  k = 0
  nthreads = tonumber(os.getenv("ISO_THREADS") or "1")
end

function request()
  sent = sent + 1
  if mode == "login" then
    last = "login"
    return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"},
                      string.format('{"email":"%s","password":"%s"}', email, password))
  end
  if next_path then
    local p = next_path
    next_path = nil
    if mode == "order" then
      last = "pay"
      return wrk.format("POST", p, {["Authorization"] = auth, ["Content-Type"] = "application/json"},
                        '{"method":"wechat"}')
    end
    last = "file"
    return wrk.format("GET", p, {["Authorization"] = auth})
  end
  if mode == "order" then
    last = "order"
    return wrk.format("POST", "/api/v1/orders",
                      {["Authorization"] = auth, ["Content-Type"] = "application/json"},
                      string.format('{"plan":"%s"}', plan))
  end
  -- export: thread i takes documents i+1, i+1+T, i+1+2T, ...
  local pos = index + 1 + k * nthreads
  if pos > #docs then
    repeats = repeats + 1
    pos = ((pos - 1) % #docs) + 1
  end
  k = k + 1
  last = "link"
  return wrk.format("GET", "/api/v1/documents/" .. docs[pos] .. "/download?format=pdf",
                    {["Authorization"] = auth})
end

function response(status, headers, body)
  if last == "login" then
    if status == 200 then ok = ok + 1 else failed = failed + 1 end
  elseif last == "order" then
    local id = body:match('"id":(%d+)')
    if status == 201 and id then
      next_path = "/api/v1/orders/" .. id .. "/pay"
    else
      failed = failed + 1
    end
  elseif last == "pay" then
    if status == 200 and body:find('"code_url"', 1, true) then ok = ok + 1 else failed = failed + 1 end
  elseif last == "link" then
    local loc = headers["Location"] or headers["location"]
    if status == 302 and loc then next_path = loc else failed = failed + 1 end
  elseif last == "file" then
    if status == 200 and body:sub(1, 4) == "%PDF" then ok = ok + 1 else failed = failed + 1 end
  end
end

function done(summary, latency, requests)
  local o, f, r, s = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    f = f + t:get("failed")
    r = r + t:get("repeats")
    s = s + t:get("sent")
  end
  local e = summary.errors
  -- Requests cut off by the end of the run are not failures; timeouts and
  -- connection errors are.
  f = f + e.connect + e.timeout
  io.write(string.format("load %s requests %d ok %d failed %d repeats %d\n",
                         threads[1]:get("mode"), s, o, f, r))
end
