-- wrk script: POSTs the generated CheckedPolicyViolations requests (one JSON body a line
-- of $PREFLIGHT_REQUESTS, the generator's requests.jsonl), cycling through them.
local bodies = {}
local next_body = 1

function init(args)
  local path = os.getenv("PREFLIGHT_REQUESTS")
  local limit = tonumber(os.getenv("PREFLIGHT_REQUEST_LIMIT") or "2000")
  for line in io.lines(path) do
    bodies[#bodies + 1] = line
    if #bodies >= limit then break end
  end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/scim+json"}, body)
end

