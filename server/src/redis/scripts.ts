/**
 * The Lua scripts that keep the shared rooms consistent (docs/scale-out.md lists every key).
 * Redis runs each script alone, start to end, so two nodes can never seat three people and a
 * seat is never both resumed and freed. Keys are built inside the scripts from the room code,
 * which suits one Redis server (or a primary with replicas), not Redis Cluster.
 *
 * A seat is `duet:room:<code>` field `s0` or `s1`, JSON:
 *   th: the SHA-256 of the seat token (never the token: seat-token.ts), id: seat id, n: node,
 *   c: connection id, h: 1 while held, pad: the partner's seat id when it was held ('' if alone).
 * Scripts answer JSON; a connection is `{n, c}`.
 */

const PRELUDE = `
local function seat(r, i)
  local v = redis.call('HGET', r, 's' .. i)
  if v then return cjson.decode(v) end
  return nil
end
local function put(r, i, s) redis.call('HSET', r, 's' .. i, cjson.encode(s)) end
local function member(code, i, id) return code .. ' ' .. i .. ' ' .. id end
local function loc(s)
  if s and s.h == 0 then return { n = s.n, c = s.c } end
  return nil
end
local function view(s)
  if not s then return nil end
  return { away = s.h == 1, n = s.n, c = s.c }
end
local function free(code, i, id)
  local r = 'duet:room:' .. code
  local s = seat(r, i)
  if not s or s.id ~= id then return false, nil end
  redis.call('HDEL', r, 's' .. i)
  redis.call('ZREM', 'duet:holds', member(code, i, id))
  redis.call('SREM', 'duet:node:' .. s.n .. ':seats', member(code, i, id))
  local p = seat(r, 1 - i)
  if not p then
    redis.call('DEL', r)
    redis.call('SREM', 'duet:rooms', code)
  end
  return true, p
end
local function hold(code, i, id, untilMs)
  local r = 'duet:room:' .. code
  local s = seat(r, i)
  if not s or s.id ~= id or s.h == 1 then return false, nil end
  local p = seat(r, 1 - i)
  redis.call('SREM', 'duet:node:' .. s.n .. ':seats', member(code, i, id))
  s.h = 1
  s.pad = (p and p.id) or ''
  put(r, i, s)
  redis.call('ZADD', 'duet:holds', untilMs, member(code, i, id))
  return true, p
end
local function parse(m)
  local code, i, id = string.match(m, '^(%S+) (%d) (%S+)$')
  return code, tonumber(i), id
end
`;

/** Moves seat `i` (table `s`) of room `code` to connection `node`/`conn`, connected; returns the connection it had. */
const TAKE = `
local function take(code, i, s, node, conn)
  local r = 'duet:room:' .. code
  local replaced = loc(s)
  redis.call('SREM', 'duet:node:' .. s.n .. ':seats', member(code, i, s.id))
  redis.call('ZREM', 'duet:holds', member(code, i, s.id))
  s.n, s.c, s.h, s.pad = node, conn, 0, ''
  put(r, i, s)
  redis.call('SADD', 'duet:node:' .. node .. ':seats', member(code, i, s.id))
  return replaced
end
local function find(r, a, b)
  for k = 0, 1 do
    local s = seat(r, k)
    if s and (s.th == a or s.th == b) then return k, s end
  end
  return nil, nil
end
`;

/**
 * ARGV: code, suite, node, conn, token hash, seat id, maxRooms, version
 * → {e, o?, v?} | {i, id, p?: {away, n, c}, again?, rp?}   (o: the occupant, told of a
 * suite-mismatch; v = 1: the suite matched, not its version). A room without a version field
 * (made by a node from before versions) is version 1.
 * A seat that has the token hash already is this client's (its `joined` was lost): it is given
 * back (`again`; rp: the connection that still sat there) instead of taking the other seat.
 */
export const JOIN = `${PRELUDE}${TAKE}
local code, suite, node, conn, th, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local version = ARGV[8]
local r = 'duet:room:' .. code
local function mismatch(i)
  local sameSuite = redis.call('HGET', r, 'suite') == suite
  if sameSuite and (redis.call('HGET', r, 'version') or '1') == version then return nil end
  return cjson.encode({ e = 'suite-mismatch', o = loc(seat(r, 1 - i)), v = sameSuite and 1 or 0 })
end
if redis.call('EXISTS', r) == 1 then
  local k, own = find(r, th, th)
  if own then
    local refused = mismatch(k)
    if refused then return refused end
    local replaced = take(code, k, own, node, conn)
    return cjson.encode({ i = k, id = own.id, again = 1, p = view(seat(r, 1 - k)), rp = replaced })
  end
else
  if redis.call('SCARD', 'duet:rooms') >= tonumber(ARGV[7]) then return cjson.encode({ e = 'server-busy' }) end
  redis.call('HSET', r, 'suite', suite, 'version', version)
  redis.call('SADD', 'duet:rooms', code)
end
local i
if not seat(r, 0) then i = 0 elseif not seat(r, 1) then i = 1 else return cjson.encode({ e = 'room-full' }) end
local refused = mismatch(i)
if refused then return refused end
put(r, i, { th = th, id = id, n = node, c = conn, h = 0, pad = '' })
redis.call('SADD', 'duet:node:' .. node .. ':seats', member(code, i, id))
return cjson.encode({ i = i, id = id, p = view(seat(r, 1 - i)) })
`;

/**
 * ARGV: code, token hash, node, conn, next token hash → {f, rp?} | {i, id, suite, p?, rp?}
 * A seat at the next hash already matches too (this client's earlier resume, its answer lost).
 * (rp: on failure the partner to tell partner-left; on success the connection replaced.)
 */
export const RESUME = `${PRELUDE}${TAKE}
local code, th, node, conn, nh = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local r = 'duet:room:' .. code
local i, s = find(r, th, nh)
if i == nil then return cjson.encode({ f = 1 }) end
local p = seat(r, 1 - i)
if s.h == 1 and s.pad ~= '' and (not p or p.id ~= s.pad) then
  local _, partner = free(code, i, s.id)
  return cjson.encode({ f = 1, rp = loc(partner) })
end
s.th = nh
local replaced = take(code, i, s, node, conn)
return cjson.encode({ i = i, id = s.id, suite = redis.call('HGET', r, 'suite'), p = view(p), rp = replaced })
`;

/**
 * The seat's holder asks; a guard below makes sure it still is the holder: a seat resumed on
 * another connection keeps its id, and the replaced connection may not have heard yet.
 */
const OWNER = `
local function owned(code, i, id, node, conn)
  local s = seat('duet:room:' .. code, i)
  return s ~= nil and s.id == id and s.h == 0 and s.n == node and s.c == conn
end
`;

/** ARGV: code, index, seat id, node, conn → {p?}: the connected partner, when this seat was freed. */
export const RELEASE = `${PRELUDE}${OWNER}
if not owned(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]) then return '{}' end
local freed, p = free(ARGV[1], tonumber(ARGV[2]), ARGV[3])
if freed then return cjson.encode({ p = loc(p) }) end
return '{}'
`;

/** ARGV: code, index, seat id, held until (ms), node, conn → {p?}: the connected partner, when this seat was held. */
export const HOLD = `${PRELUDE}${OWNER}
if not owned(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[5], ARGV[6]) then return '{}' end
local held, p = hold(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4])
if held then return cjson.encode({ p = loc(p) }) end
return '{}'
`;

/** ARGV: now (ms), at most this many → [{p?}]: held seats past their time, freed. */
export const EXPIRE = `${PRELUDE}
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', 'duet:holds', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  redis.call('ZREM', 'duet:holds', m)
  local code, i, id = parse(m)
  local s = seat('duet:room:' .. code, i)
  if s and s.id == id and s.h == 1 then
    local _, p = free(code, i, id)
    table.insert(out, { p = loc(p) or false })
  end
end
return cjson.encode(out)
`;

/**
 * ARGV: held until (ms) → [{p?}]. Every node in duet:nodes whose duet:alive:<node> key has
 * expired crashed: its seats are held as if their connections dropped, and it is forgotten.
 */
export const REAP = `${PRELUDE}
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', 'duet:nodes')) do
  if redis.call('EXISTS', 'duet:alive:' .. node) == 0 then
    for _, m in ipairs(redis.call('SMEMBERS', 'duet:node:' .. node .. ':seats')) do
      local code, i, id = parse(m)
      local held, p = hold(code, i, id, ARGV[1])
      if held then table.insert(out, { p = loc(p) or false }) end
    end
    redis.call('DEL', 'duet:node:' .. node .. ':seats')
    redis.call('SREM', 'duet:nodes', node)
  end
end
return cjson.encode(out)
`;

/**
 * The handshake budget (handshake-budget.ts), shared by every node. ARGV: code, now, burst,
 * refill ms, memory ms, budgets at most, budgets per address, per connection, new budgets per
 * second, address, connection → [1, attempt] | [0, retry after ms].
 *
 * Keys: `duet:budget:<code>` (the bucket; `ca`/`cc`: the charge sets it counts against),
 * forgotten memory ms after last use; `duet:budgets`, every budget scored by when it is full
 * (or forgotten, if sooner); `duet:charges:a:<address>` and `duet:charges:c:<connection>`, the
 * budgets each caused, scored the same way; `duet:budget-rate`, the relay-wide creation bucket.
 */
export const TAKE_ATTEMPT = `
local code, now = ARGV[1], tonumber(ARGV[2])
local burst, refill, memory = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local maxBudgets, perSecond = tonumber(ARGV[6]), tonumber(ARGV[9])
local charges = {
  { 'duet:charges:a:' .. ARGV[10], tonumber(ARGV[7]) },
  { 'duet:charges:c:' .. ARGV[11], tonumber(ARGV[8]) },
}
local k = 'duet:budget:' .. code

local function release(room)
  local key = 'duet:budget:' .. room
  for _, set in ipairs(redis.call('HMGET', key, 'ca', 'cc')) do
    if set then redis.call('ZREM', set, room) end
  end
  redis.call('HDEL', key, 'ca', 'cc')
end

local exists = redis.call('EXISTS', k) == 1
local tokens = tonumber(redis.call('HGET', k, 'tokens') or burst)
local at = tonumber(redis.call('HGET', k, 'at') or now)
local n = tonumber(redis.call('HGET', k, 'n') or 0)
tokens = math.min(burst, tokens + math.max(0, now - at) / refill)
at = math.max(now, at)

-- A new budget, or one refilled completely (as good as none): charged to whoever asks.
if tokens >= burst then
  for _, charge in ipairs(charges) do
    redis.call('ZREMRANGEBYSCORE', charge[1], '-inf', now)
    if redis.call('ZCARD', charge[1]) >= charge[2] then
      local first = redis.call('ZRANGE', charge[1], 0, 0, 'WITHSCORES')
      return { 0, math.max(1, math.ceil(tonumber(first[2]) - now)) }
    end
  end
  local rate = 'duet:budget-rate'
  local left = tonumber(redis.call('HGET', rate, 'tokens') or perSecond)
  local since = tonumber(redis.call('HGET', rate, 'at') or now)
  left = math.min(perSecond, left + math.max(0, now - since) * perSecond / 1000)
  if left < 1 then return { 0, math.ceil((1 - left) * 1000 / perSecond) } end
  redis.call('HSET', rate, 'tokens', string.format('%.17g', left - 1), 'at', math.max(now, since))
  redis.call('PEXPIRE', rate, 60000)
  if exists then
    release(code)
  else
    -- A place in the table: the budget full soonest (or forgotten already) goes.
    while redis.call('ZCARD', 'duet:budgets') >= maxBudgets do
      local room = redis.call('ZRANGE', 'duet:budgets', 0, 0)[1]
      release(room)
      redis.call('DEL', 'duet:budget:' .. room)
      redis.call('ZREM', 'duet:budgets', room)
    end
  end
  redis.call('HSET', k, 'ca', charges[1][1], 'cc', charges[2][1])
end

local result
if tokens < 1 then
  result = { 0, math.ceil((1 - tokens) * refill) }
else
  tokens = tokens - 1
  n = n + 1
  result = { 1, n }
end
redis.call('HSET', k, 'tokens', string.format('%.17g', tokens), 'at', at, 'n', n)
redis.call('PEXPIRE', k, memory)
-- Scored by when it is full again, or forgotten if that comes first.
local ends = math.min(at + (burst - tokens) * refill, now + memory)
redis.call('ZADD', 'duet:budgets', ends, code)
for _, set in ipairs(redis.call('HMGET', k, 'ca', 'cc')) do
  if set then
    redis.call('ZADD', set, ends, code)
    -- A charge set lives as long as its last charge, not as long as the budgets.
    local ttl = math.ceil(ends - now)
    if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
  end
end
return result
`;
