-- wrk script for the payoutd benchmark: every request is a new payout.
--
--   wrk -t2 -c64 -d10s --latency -s bench/payout.lua http://127.0.0.1:PORT -- NONCE PHASE
--
-- NONCE is unique per benchmark run and PHASE per wrk invocation of that run (w = warm-up,
-- m = measured), so the transactionId  NONCE-PHASE-THREAD-COUNTER  never repeats across runs,
-- invocations, wrk threads or connections (the connections of one wrk thread share its Lua
-- state, hence its counter). Allowed characters: [A-Za-z0-9._-], at most 64.
--
-- No response() callback on purpose: defining one makes wrk parse every response's headers and
-- body in Lua, which slows the load generator. run.sh checks correctness afterwards against the
-- ledger (the funder's balance) instead.

local PATH_PREFIX = "/partner/openapi-payment-api/v1/funder-payouts/products/best-partner/transactions/"
local BODY = '{"fromFunderId":"bonus-funder","toClientId":"sjrpngawef8770553957",'
          .. '"transactionAmount":{"value":"1.00","currency":"RUB"}}'
local HEADERS = {
   ["Authorization"] = "Bearer sandbox-best-partner-token",
   ["Content-Type"]  = "application/json",
}
local MAX_ID_LEN = 64

-- setup() runs in wrk's separate setup environment, once per thread, before the threads start:
-- hand each thread its own number (a global in that thread's environment).
local threads_seen = 0
function setup(thread)
   threads_seen = threads_seen + 1
   thread:set("thread_id", threads_seen)
end

local prefix   -- PATH_PREFIX .. "NONCE-PHASE-THREAD-"
local id_stem  -- "NONCE-PHASE-THREAD-"
local counter = 0

function init(args)
   local nonce, phase = args[1], args[2]
   if nonce == nil or phase == nil then
      error("payout.lua: usage: wrk ... -s payout.lua URL -- NONCE PHASE")
   end
   if thread_id == nil then
      error("payout.lua: setup() did not run, no thread id")
   end
   id_stem = nonce .. "-" .. phase .. "-" .. thread_id .. "-"
   if not id_stem:match("^[A-Za-z0-9._-]+$") then
      error("payout.lua: NONCE and PHASE may only use [A-Za-z0-9._-]: " .. id_stem)
   end
   -- leave room for a 12-digit counter (10^12 requests per thread is far beyond any run)
   if #id_stem + 12 > MAX_ID_LEN then
      error("payout.lua: NONCE-PHASE too long for a 64-character transactionId: " .. id_stem)
   end
   prefix = PATH_PREFIX .. id_stem
end

function request()
   counter = counter + 1
   return wrk.format("PUT", prefix .. counter, HEADERS, BODY)
end
