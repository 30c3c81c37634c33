-- POST /bookings for a random room type and stay; one customer per thread-request counter.
local hotels = tonumber(os.getenv("HOTELS") or "200")
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  local nights = math.random(1, 3)
  local day = math.random(1, 28 - nights)
  local body = string.format(
    '{"customer_id":"w%d-%d","room_type_id":"h%04d-r%d","check_in":"2027-01-%02d","nights":%d,"card_token":"tok_ok"}',
    math.random(1, 1000000), n, math.random(1, hotels), math.random(1, 3), day, nights)
  return wrk.format("POST", "/bookings", {["Content-Type"] = "application/json"}, body)
end
