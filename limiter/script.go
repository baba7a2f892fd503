package limiter

import (
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The Redis backend keeps a site's state in two keys, and changes it only
// inside Lua scripts, which Redis runs atomically. The arithmetic is the
// model's (model.go), step for step; model_redis_test.go checks that.
//
//   - The hot key, "goodbot:{JOB:SITE}:hot", is one string of sixteen
//     packed doubles: what every reservation reads and writes (TAT, the day
//     and its count, grants, the hold, the interval in force, the day's
//     limit and the day a pending raised estimate waits for), the
//     adaptive state that the observations it carries update (factor,
//     latency average and baseline, error rate, observations, time of the
//     last change), and the day and count a reservation into a later day
//     replaced (model.go's PrevDay and PrevCount). A reservation is GET, a
//     little arithmetic and SET: it costs about as much Redis time as a
//     bare GCRA. The previous versions' hot keys, fourteen doubles without
//     the replaced day and eight without the adaptive fields either, are
//     read too, and rewritten in this format by the next write.
//   - The cold key, "goodbot:{JOB:SITE}", is a hash of the rest: the
//     estimate, the pending estimate, robots.txt, the back-off step.
//     Reservations read it only when they create the state, promote a
//     raised estimate, make the site slower or faster, or are asked for the
//     whole state (a process's first call for a site). Every other
//     operation reads and writes both.
//
// The hash tag keeps both keys in one slot of a Redis Cluster. Every
// operation but a reservation renews both keys' time to live: the hot key
// Config's TTL (two days and the longest hold), the cold key a day longer.
// A reservation renews both only when its day turns, so the state lives at
// least a day and the longest hold after the last reservation, and the
// cold key outlives the hot one. A hot key without its cold hash cannot arise; a cold hash without a
// hot key is the previous version's state (one hash), which is read and
// split, or the remains of an expired state, which is replaced.
//
// Numbers in the hash and in replies are formatted with %.17g, which
// round-trips a double exactly (Lua's own tostring keeps only 14 digits);
// the hot key holds them as IEEE doubles, exact for integers below 2^53.

// stateFields are the fields of a whole state, in the order the scripts
// return them.
var stateFields = []string{
	"tat", "day", "cnt", "gr",
	"est", "lo", "hi", "src", "kind", "bud", "bT",
	"pest", "plo", "phi", "psrc", "pkind", "pbud", "pbT", "pday",
	"rob", "fac", "hold", "k", "ewma", "base", "err", "nobs", "adapt",
	"pvday", "pvcnt",
}

// Arguments common to both scripts, in order:
//
//	KEYS[1] the cold hash, KEYS[2] the hot string
//	ARGV[1] now override in µs (tests only; 0 means Redis TIME)
//	ARGV[2..4] dayLen burst ttl(ms)
//	ARGV[5] "1" to have the whole state in the reply (see below)
//	ARGV[6] the other params: "maxHold baseBackoff maxBackoff forgive adaptEvery maxFactor"
//	ARGV[7] the caller's estimate: "est kind budget budgetT low high"
//	ARGV[8] the estimate's source
//	ARGV[9...] operation-specific
//
// A reservation reads only ARGV[1..5] and ARGV[9] unless it creates the
// state; each argument costs Redis time, so the rest come packed.
//
// A reply is the time, whether the state exists, the operation's head,
// and then either the whole state, formatted (stateFields), or only the
// hold. The short reply, all integers, is what a reservation usually
// gets: formatting a number costs about as much Redis time as a GET.
const scriptPrelude = `
local A = ARGV
local now = tonumber(A[1])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local dayLen, ttl = tonumber(A[2]), tonumber(A[4])
local HOT, HOT14, OLDHOT = '<dddddddddddddddd', '<dddddddddddddd', '<dddddddd'
local H = {}
-- getHot reads the hot key into H and reports whether it held the whole
-- hot state. The previous version's hot key, fourteen doubles without the
-- replaced day (pvday, pvcnt), is read as remembering none (pvday = day).
-- The one before, eight doubles without the adaptive fields (which its
-- hash holds), is read too but reported as not there, with H.old set, so
-- that the caller reads the hash.
local function getHot()
  local raw = redis.call('GET', KEYS[2])
  if not raw then return false end
  if #raw == 128 then
    H.tat, H.day, H.cnt, H.gr, H.hold, H.t, H.lim, H.pday,
      H.fac, H.ewma, H.base, H.err, H.nobs, H.adapt, H.pvday, H.pvcnt = struct.unpack(HOT, raw)
    return true
  end
  if #raw == 64 then
    H.tat, H.day, H.cnt, H.gr, H.hold, H.t, H.lim, H.pday = struct.unpack(OLDHOT, raw)
    H.old = true
    return false
  end
  H.tat, H.day, H.cnt, H.gr, H.hold, H.t, H.lim, H.pday,
    H.fac, H.ewma, H.base, H.err, H.nobs, H.adapt = struct.unpack(HOT14, raw)
  H.pvday, H.pvcnt = H.day, 0
  return true
end
-- setHot writes the hot key; renew restarts its time to live, which
-- costs as much again, so a reservation renews it only when its day turns.
local function setHot(renew)
  local v = struct.pack(HOT, H.tat, H.day, H.cnt, H.gr, H.hold, H.t, H.lim, H.pday,
    H.fac, H.ewma, H.base, H.err, H.nobs, H.adapt, H.pvday, H.pvcnt)
  if renew then redis.call('SET', KEYS[2], v, 'PX', ttl) else redis.call('SET', KEYS[2], v, 'KEEPTTL') end
end
local function renewCold() redis.call('PEXPIRE', KEYS[1], ttl + math.ceil(dayLen / 1000)) end
local function dayOf(t)
  local d = math.floor(t / dayLen)
  if d * dayLen > t then d = d - 1 elseif (d + 1) * dayLen <= t then d = d + 1 end
  return d
end
-- params reads ARGV[6].
local function params()
  local P = {}
  P.maxHold, P.base, P.maxBack, P.forgive, P.adaptEvery, P.maxFac = string.match(A[6], '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
  for k, v in pairs(P) do P[k] = tonumber(v) end
  return P
end
-- adapt and applyBatch work on X, which is H or the whole state S: both
-- name the adaptive fields alike. adapt is model.go's adapt, applyBatch
-- its observeBatch, with a batch packed as "n errs latN latSum".
local function adapt(X, P, isErr)
  local slowLat = X.ewma > 2 * X.base
  local slowErr = X.err > 0.2
  if X.nobs >= 5 and (slowLat or slowErr) then
    if now - X.adapt >= P.adaptEvery and X.fac < P.maxFac then
      X.fac = math.min(X.fac * 1.5, P.maxFac); X.adapt = now; return 'slower'
    end
  elseif not isErr and X.fac > 1 and now - X.adapt >= P.adaptEvery then
    X.fac = math.max(X.fac * 0.9, 1); X.adapt = now; return 'faster'
  end
  return ''
end
local function decay(f, n)
  local a = 1
  for _ = 1, math.min(n, 256) do a = a * f end
  return a
end
local function applyBatch(X, P, packed)
  local n, errs, latN, latSum = string.match(packed, '^(%d+) (%d+) (%d+) (%d+)$')
  n, errs, latN, latSum = tonumber(n), tonumber(errs), tonumber(latN), tonumber(latSum)
  if not n then return redis.error_reply('goodbot limiter: bad observation batch ' .. packed) end
  if n <= 0 then return '' end
  X.nobs = X.nobs + n
  local a = decay(0.9, n)
  X.err = a * X.err + (1 - a) * (errs / n)
  if latN > 0 then
    local mean = latSum / latN
    if X.ewma == 0 then
      X.ewma = mean
    else
      local w = decay(0.8, latN)
      X.ewma = w * X.ewma + (1 - w) * mean
    end
    if X.base == 0 or X.ewma < X.base then X.base = X.ewma end
  end
  return adapt(X, P, errs > 0)
end
local function shortReply(head, exists, hold)
  local out = {now, exists and 1 or 0}
  for _, v in ipairs(head) do out[#out + 1] = v end
  out[#out + 1] = hold
  return out
end

-- lib builds what the whole state needs, off the hot path: S is the whole
-- state, O the cold part as read, so that saving writes only what changed.
local function lib()
  local L = {}
  local F = {'tat', 'day', 'cnt', 'gr', 'est', 'lo', 'hi', 'src', 'kind', 'bud', 'bT',
    'pest', 'plo', 'phi', 'psrc', 'pkind', 'pbud', 'pbT', 'pday',
    'rob', 'fac', 'hold', 'k', 'ewma', 'base', 'err', 'nobs', 'adapt', 'pvday', 'pvcnt'}
  local HOTL = {'tat', 'day', 'cnt', 'gr', 'hold', 'pday', 'fac', 'ewma', 'base', 'err', 'nobs', 'adapt', 'pvday', 'pvcnt'}
  local OLDL = {'tat', 'day', 'cnt', 'gr', 'hold', 'pday'} -- what the previous hot key held
  local HOTF = {}
  for _, f in ipairs(HOTL) do HOTF[f] = true end
  local STR = {src = true, psrc = true}
  local S, O = {}, {}
  local legacy = false
  L.S = S
  local function fmt(v)
    if type(v) == 'number' then return string.format('%.17g', v) end
    return v
  end
  L.fmt = fmt
  local function readFields(m)
    for _, f in ipairs(F) do
      if STR[f] then S[f] = m[f] or '' else S[f] = tonumber(m[f] or '0') end
      O[f] = S[f]
    end
  end
  function L.interval() return math.ceil(math.max(S.bT, S.rob) * S.fac) end
  local function toHot()
    for _, f in ipairs(HOTL) do H[f] = S[f] end
    H.t = L.interval(); H.lim = math.floor(S.bud)
  end
  -- fromHot takes the hot fields from H, which the caller changed.
  function L.fromHot()
    for _, f in ipairs(HOTL) do S[f] = H[f] end
  end
  -- load reads the whole state and reports whether it exists. haveHot
  -- says that H holds the hot key; without it, the state exists only if
  -- it is a previous version's, which is kept: everything in one hash, or
  -- the hot key without the adaptive fields (H.old).
  function L.load(haveHot)
    local raw = redis.call('HGETALL', KEYS[1])
    local m = {}
    for i = 1, #raw, 2 do m[raw[i]] = raw[i + 1] end
    readFields(m)
    if haveHot then
      L.fromHot()
      return true
    end
    if H.old then
      for _, f in ipairs(OLDL) do S[f] = H[f] end
      if not m.fac then S.fac = 1 end -- never pace at interval 0
      S.pvday, S.pvcnt = S.day, 0 -- no replaced day remembered
      legacy = true
      toHot()
      return true
    end
    if m.tat then
      S.pvday, S.pvcnt = S.day, 0
      legacy = true
      toHot()
      return true
    end
    readFields({})
    return false
  end
  -- save writes the cold fields that changed, and the hot key.
  function L.save()
    local args = {}
    for _, f in ipairs(F) do
      if not HOTF[f] and S[f] ~= O[f] then
        args[#args + 1] = f; args[#args + 1] = fmt(S[f]); O[f] = S[f]
      end
    end
    if legacy then
      redis.call('HDEL', KEYS[1], unpack(HOTL))
      legacy = false
    end
    if #args > 0 then redis.call('HSET', KEYS[1], unpack(args)) end
    renewCold()
    toHot()
    setHot(true)
  end
  function L.setEst(e)
    S.est = e.est; S.lo = e.lo; S.hi = e.hi; S.src = e.src; S.kind = e.kind; S.bud = e.bud; S.bT = e.bT
    S.pest = 0; S.plo = 0; S.phi = 0; S.psrc = ''; S.pkind = 0; S.pbud = 0; S.pbT = 0; S.pday = 0
  end
  -- estimate reads an estimate packed as ARGV[7] and ARGV[8] are.
  function L.estimate(packed, src)
    local e = {src = src}
    e.est, e.kind, e.bud, e.bT, e.lo, e.hi = string.match(packed, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
    for k, v in pairs(e) do if k ~= 'src' then e[k] = tonumber(v) end end
    return e
  end
  -- create makes a fresh state from the caller's estimate; saving it
  -- overwrites every field of an expired state's hash.
  function L.create()
    readFields({})
    for _, f in ipairs(F) do O[f] = nil end
    S.day = dayOf(now); S.pvday = S.day; S.fac = 1
    L.setEst(L.estimate(A[7], A[8]))
  end
  function L.reply(head, exists)
    local out = {fmt(now), exists and '1' or '0'}
    for _, v in ipairs(head) do out[#out + 1] = fmt(v) end
    for _, f in ipairs(F) do out[#out + 1] = fmt(S[f]) end
    return out
  end
  return L
end
`

// reserveScript reserves the next free slot for one request (GCRA), charges
// it to its day, and returns how long to wait. Reply head: ok flags slot t
// until count limit. The rest of the reply is the whole state when asked
// for, or when the state was created, a raised estimate promoted, or the
// observations made the site slower or faster (flags 1, 4, 8 and 16);
// else only the hold. In steady state it is GET, arithmetic and SET.
//
// ARGV[9] is a deadline in Redis time (0: none): a call that reaches the
// server after it, because the server was paused or slow, changes nothing
// and replies ok = 2, so that a reservation nobody waits for any more does
// not use up a slot.
//
// ARGV[10] is the caller's observations of the site since its last
// reservation, "n errs latN latSum" (empty: none), applied first
// (model.go's observeBatch).
const reserveScript = scriptPrelude + `
local deadline = tonumber(A[9])
if deadline > 0 and now > deadline then return shortReply({2, 0, 0, 0, 0, 0, 0}, false, 0) end
local L
local init, promoted = false, false
if not getHot() then
  L = lib()
  if not L.load(false) then L.create(); init = true end
  L.save()
end
local ch = ''
if A[10] and A[10] ~= '' then
  ch = applyBatch(H, params(), A[10])
  if type(ch) == 'table' then return ch end
  if ch ~= '' then
    if L then L.fromHot() else L = lib(); L.load(true) end
    H.t = L.interval()
  end
end
local t = H.t
local slot = math.max(now, H.hold, H.tat - (tonumber(A[3]) - 1) * t)
if H.pday > 0 and dayOf(slot) >= H.pday then
  if L then L.fromHot() else L = lib(); L.load(true) end
  local S = L.S
  L.setEst({est = S.pest, lo = S.plo, hi = S.phi, src = S.psrc, kind = S.pkind, bud = S.pbud, bT = S.pbT})
  L.save()
  promoted = true
  t = H.t
end
local d = math.max(dayOf(slot), H.day)
local newDay = d > H.day
if newDay then H.pvday = H.day; H.pvcnt = H.cnt; H.day = d; H.cnt = 0 end
local flags = (init and 1 or 0) + (promoted and 4 or 0) + (ch == 'slower' and 8 or 0) + (ch == 'faster' and 16 or 0)
local ok, nextDay = 0, (d + 1) * dayLen
if H.cnt < H.lim then
  ok, nextDay = 1, 0
  H.cnt = H.cnt + 1
  H.gr = H.gr + 1
  H.tat = math.max(H.tat, slot) + t
else
  slot, t = 0, 0
end
setHot(newDay)
if newDay then renewCold() end
if A[5] == '1' or flags > 0 then
  if L then L.fromHot() else L = lib(); L.load(true) end
  return L.reply({ok, flags, slot, t, nextDay, H.cnt, H.lim}, true)
end
return {now, 1, ok, flags, slot, t, nextDay, H.cnt, H.lim, H.hold}
`

// updateScript applies feedback and settings. ARGV[9] is the operation:
//
//	status                        read only
//	cancel   slot t               give back an unused reservation
//	obs      status latency retryAfter err(0/1) jitter [channel site]
//	         (a new hold is published on channel as "SITE HOLD_UNTIL_µs")
//	batch    "n errs latN latSum" (observations without a hold, as a
//	         reservation applies them)
//	robots   delay
//	estimate "est kind budget budgetT low high" src
//
// Reply head: change initflag (status and cancel: change only). The rest
// is the whole state for status, when asked for, or when something
// changed; else only the hold.
const updateScript = scriptPrelude + `
local P = params()
local op = A[9]
local L = lib()
local S = L.S
local exists = L.load(getHot())
if op == 'status' then return L.reply({''}, exists) end
if op == 'cancel' then
  if not exists then return L.reply({''}, false) end
  local slot, t = tonumber(A[10]), tonumber(A[11])
  if dayOf(slot) == S.day and S.cnt > 0 then
    S.cnt = S.cnt - 1
    -- the only reservation left in a day it rolled the counter into
    if S.cnt == 0 and S.pvday < S.day then S.day = S.pvday; S.cnt = S.pvcnt end
  end
  if S.gr > 0 then S.gr = S.gr - 1 end
  if S.tat == slot + t then S.tat = slot end
  L.save()
  if A[5] ~= '1' then return shortReply({''}, true, S.hold) end
  return L.reply({''}, true)
end
local init = false
if not exists then L.create(); init = true end
local c = ''
if op == 'obs' then
  local status, lat, ra, isErr, jit = tonumber(A[10]), tonumber(A[11]), tonumber(A[12]), A[13] == '1', tonumber(A[14])
  local x = 0
  if isErr then x = 1 end
  S.nobs = S.nobs + 1
  S.err = 0.9 * S.err + 0.1 * x
  if lat > 0 then
    if S.ewma == 0 then S.ewma = lat else S.ewma = 0.8 * S.ewma + 0.2 * lat end
    if S.base == 0 or S.ewma < S.base then S.base = S.ewma end
  end
  if status == 429 or status == 503 then
    local d
    if ra > 0 then
      d = math.min(ra, P.maxHold)
    else
      if S.k > 0 and now >= S.hold + P.forgive then S.k = 0 end
      d = P.base
      local i = 0
      while i < S.k and d < P.maxBack do d = d * 2; i = i + 1 end
      d = math.min(d, P.maxBack)
      d = math.floor(d * (1 + jit / 4))
      d = math.min(d, P.maxHold)
      if S.k < 62 then S.k = S.k + 1 end
    end
    if now + d > S.hold then
      S.hold = now + d; c = 'hold'
      if A[15] and A[15] ~= '' then redis.call('PUBLISH', A[15], A[16] .. ' ' .. L.fmt(S.hold)) end
    end
  else
    c = adapt(S, P, isErr)
  end
elseif op == 'batch' then
  c = applyBatch(S, P, A[10])
  if type(c) == 'table' then return c end
elseif op == 'robots' then
  local d = tonumber(A[10])
  if S.rob ~= d then S.rob = d; c = 'robots' end
elseif op == 'estimate' then
  local e = L.estimate(A[10], A[11])
  if e.bud < S.bud then
    L.setEst(e); c = 'estimate:lower'
  elseif e.bud > S.bud then
    S.pest = e.est; S.plo = e.lo; S.phi = e.hi; S.psrc = e.src; S.pkind = e.kind; S.pbud = e.bud; S.pbT = e.bT
    S.pday = dayOf(now) + 1
    c = 'estimate:raise'
  end
else
  return redis.error_reply('goodbot limiter: unknown operation ' .. tostring(op))
end
L.save()
if c == '' and not init and A[5] ~= '1' then return shortReply({c, 0}, true, S.hold) end
return L.reply({c, init and 1 or 0}, true)
`

// fmtNum formats v as the scripts read it.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fmtInt(v int64) string { return strconv.FormatInt(v, 10) }

// scriptArgs returns the common arguments; full asks for the whole state
// in the reply.
func scriptArgs(nowOverride int64, p params, ttlMillis int64, in estimateArgs, full bool) []any {
	f := "0"
	if full {
		f = "1"
	}
	return []any{
		fmtInt(nowOverride), fmtInt(p.DayLen), fmtInt(p.Burst), fmtInt(ttlMillis), f,
		fmtInt(p.MaxHold) + " " + fmtInt(p.BaseBackoff) + " " + fmtInt(p.MaxBackoff) + " " +
			fmtInt(p.Forgive) + " " + fmtInt(p.AdaptEvery) + " " + fmtNum(p.MaxFactor),
		packEstimate(in), in.Source,
	}
}

// packEstimate packs the numbers of an estimate as the scripts read them.
func packEstimate(in estimateArgs) string {
	return fmtNum(in.Est) + " " + fmtInt(in.Kind) + " " + fmtNum(in.Budget) + " " +
		fmtInt(in.BudgetT) + " " + fmtNum(in.Low) + " " + fmtNum(in.High)
}

// scriptReply is a parsed script reply.
type scriptReply struct {
	now  int64
	head []string
	st   state
	// full reports that st is the whole state; otherwise only st.Exists
	// and st.Hold are known (a reservation's short reply).
	full bool
}

// parseReply parses a reply with a head of n values: the whole state, or
// only the hold.
func parseReply(v []string, n int) (scriptReply, error) {
	var r scriptReply
	short, long := 2+n+1, 2+n+len(stateFields)
	if len(v) != short && len(v) != long {
		return r, fmt.Errorf("script reply has %d values, want %d or %d", len(v), short, long)
	}
	now, err := strconv.ParseFloat(v[0], 64)
	if err != nil {
		return r, fmt.Errorf("script reply: time %q: %w", v[0], err)
	}
	r.now = int64(now)
	r.head = v[2 : 2+n]
	r.st.Exists = v[1] == "1"
	f := v[2+n:]
	num := func(i int) float64 {
		if err != nil {
			return 0
		}
		var x float64
		x, err = strconv.ParseFloat(f[i], 64)
		if err != nil {
			name := "hold"
			if len(f) > 1 {
				name = stateFields[i]
			}
			err = fmt.Errorf("script reply: field %s = %q: %w", name, f[i], err)
		}
		return x
	}
	in := func(i int) int64 { return int64(num(i)) }
	s := &r.st
	if len(v) == short {
		s.Hold = in(0)
		return r, err
	}
	r.full = true
	s.TAT, s.Day, s.Count, s.Granted = in(0), in(1), in(2), in(3)
	s.Est, s.Low, s.High, s.Source, s.Kind, s.Budget, s.BudgetT = num(4), num(5), num(6), f[7], in(8), num(9), in(10)
	s.PendEst, s.PendLow, s.PendHigh, s.PendSource, s.PendKind, s.PendBudget, s.PendBudgetT, s.PendDay = num(11), num(12), num(13), f[14], in(15), num(16), in(17), in(18)
	s.Robots, s.Factor, s.Hold, s.K = in(19), num(20), in(21), in(22)
	s.EWMA, s.Base, s.ErrRate, s.NObs, s.Adapt = num(23), num(24), num(25), in(26), in(27)
	s.PrevDay, s.PrevCount = in(28), in(29)
	return r, err
}

// replyStrings returns a script's reply as strings: the scripts answer
// with strings and integers.
func replyStrings(c *redis.Cmd) ([]string, error) {
	vs, err := c.Slice()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		switch v := v.(type) {
		case string:
			out[i] = v
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		default:
			return nil, fmt.Errorf("script reply: value %d has type %T", i, v)
		}
	}
	return out, nil
}

func headInt(h []string, i int) (int64, error) {
	x, err := strconv.ParseFloat(h[i], 64)
	if err != nil {
		return 0, fmt.Errorf("script reply: value %d = %q: %w", i, h[i], err)
	}
	return int64(x), nil
}
