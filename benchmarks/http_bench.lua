-- wrk script: POSTs the generated CheckedPolicyViolations requests (one JSON body a line
-- of $PREFLIGHT_REQUESTS, the generator's requests.jsonl), cycling through them.
-- With PREFLIGHT_BULK=N, each request is instead a SCIM BulkRequest of N of them (POST to
-- .../Bulk): checks/s is then requests/s times N.
local bodies = {}
local next_body = 1

function init(args)
  local path = os.getenv("PREFLIGHT_REQUESTS")
  local limit = tonumber(os.getenv("PREFLIGHT_REQUEST_LIMIT") or "2000")
  local bulk = tonumber(os.getenv("PREFLIGHT_BULK") or "0")
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
    if #lines >= limit then break end
  end
  if bulk > 0 then
    for first = 1, #lines - bulk + 1, bulk do
      local ops = {}
      for i = first, first + bulk - 1 do
        ops[#ops + 1] = '{"method":"POST","path":"/CheckedPolicyViolations","bulkId":"' .. i .. '","data":' .. lines[i] .. '}'
      end
      bodies[#bodies + 1] = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[' ..
                            table.concat(ops, ",") .. ']}'
    end
  else
    bodies = lines
  end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/scim+json"}, body)
end
