-- wrk script for the card payout benchmark: every request is a new Bereke performPayout.do of
-- 1 tenge-tiyn (1 minor unit) to PAN, funded by the transit account. cards.py passes the sandbox
-- config's success card (its recipient binding's number): card numbers live in the config.
--
--   wrk -t2 -c64 -d10s --latency -s bench/card_payout.lua http://127.0.0.1:PORT -- NONCE PHASE PAN [NAME]
--
-- NAME, when given, is the recipient's name (client.name): networks.py's rails need it.
--
-- orderNumber = NONCE-PHASE-THREAD-COUNTER, at most 32 characters of [A-Za-z0-9._-]; unique per
-- run (NONCE), wrk invocation (PHASE) and thread. No response() callback: cards.py checks the
-- outcome against the ledger (the transit account's balance) afterwards.
local PATH = "/payouts/api/v2/performPayout.do"
local HEADERS = { ["Content-Type"] = "application/json" }
local HEAD = '{"userName":"payout_api_username","password":"payout_api_password","orderNumber":"'
local TAIL

local threads_seen = 0
function setup(thread)
   threads_seen = threads_seen + 1
   thread:set("thread_id", threads_seen)
end

local stem
local counter = 0

function init(args)
   local nonce, phase, pan, name = args[1], args[2], args[3], args[4]
   if nonce == nil or phase == nil or pan == nil or thread_id == nil then
      error("card_payout.lua: usage: wrk ... -s card_payout.lua URL -- NONCE PHASE PAN")
   end
   if not pan:match("^[0-9]+$") then error("card_payout.lua: PAN is digits") end
   if name ~= nil and not name:match("^[A-Z ]+$") then error("card_payout.lua: NAME is A-Z and spaces") end
   local client = name and (',"client":{"name":"' .. name .. '"}') or ""
   TAIL = '","amount":1,"currency":"398","target":{"card":{"pan":"' .. pan .. '"}}' .. client .. '}'
   stem = nonce .. "-" .. phase .. "-" .. thread_id .. "-"
   if #stem + 9 > 32 or not stem:match("^[A-Za-z0-9._-]+$") then
      error("card_payout.lua: NONCE-PHASE too long or not [A-Za-z0-9._-]: " .. stem)
   end
end

function request()
   counter = counter + 1
   return wrk.format("POST", PATH, HEADERS, HEAD .. stem .. counter .. TAIL)
end
