package limiter

import (
	"fmt"
	"strconv"
)

// The Redis backend keeps a site's whole state in one hash, and changes it
// only inside Lua scripts, which Redis runs atomically. The arithmetic is
// the model's (model.go), step for step; model_redis_test.go checks that.
//
// Every number is stored and returned formatted with %.17g, which
// round-trips a double exactly (Lua's own tostring keeps only 14 digits).

// stateFields are the hash fields, in the order the scripts return them.
var stateFields = []string{
	"tat", "day", "cnt", "gr",
	"est", "lo", "hi", "src", "kind", "bud", "bT",
	"pest", "plo", "phi", "psrc", "pkind", "pbud", "pbT", "pday",
	"rob", "fac", "hold", "k", "ewma", "base", "err", "nobs", "adapt",
}

// Arguments common to both scripts, in order:
//
//	ARGV[1]  now override in µs (tests only; 0 means Redis TIME)
//	ARGV[2..10] params: dayLen burst maxHold baseBackoff maxBackoff forgive adaptEvery maxFactor ttl(ms)
//	ARGV[11..17] the caller's estimate: est src kind budget budgetT low high
//	ARGV[18...] operation-specific
const scriptPrelude = `
local key = KEYS[1]
local A = ARGV
local P = {dayLen = tonumber(A[2]), burst = tonumber(A[3]), maxHold = tonumber(A[4]),
  base = tonumber(A[5]), maxBack = tonumber(A[6]), forgive = tonumber(A[7]),
  adaptEvery = tonumber(A[8]), maxFac = tonumber(A[9]), ttl = tonumber(A[10])}
local IN = {est = tonumber(A[11]), src = A[12], kind = tonumber(A[13]), bud = tonumber(A[14]), bT = tonumber(A[15]),
  lo = tonumber(A[16]), hi = tonumber(A[17])}
local now = tonumber(A[1])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local F = {'tat', 'day', 'cnt', 'gr', 'est', 'lo', 'hi', 'src', 'kind', 'bud', 'bT',
  'pest', 'plo', 'phi', 'psrc', 'pkind', 'pbud', 'pbT', 'pday',
  'rob', 'fac', 'hold', 'k', 'ewma', 'base', 'err', 'nobs', 'adapt'}
local STR = {src = true, psrc = true}
local S = {}
local raw = redis.call('HGETALL', key)
for i = 1, #raw, 2 do S[raw[i]] = raw[i + 1] end
local exists = #raw > 0
for _, f in ipairs(F) do
  if STR[f] then S[f] = S[f] or '' else S[f] = tonumber(S[f] or '0') end
end
-- O is the state as read, so that save writes only what changed.
local O = {}
for _, f in ipairs(F) do O[f] = S[f] end

local function dayOf(t)
  local d = math.floor(t / P.dayLen)
  if d * P.dayLen > t then d = d - 1 elseif (d + 1) * P.dayLen <= t then d = d + 1 end
  return d
end
local function setEst(e)
  S.est = e.est; S.lo = e.lo; S.hi = e.hi; S.src = e.src; S.kind = e.kind; S.bud = e.bud; S.bT = e.bT
  S.pest = 0; S.plo = 0; S.phi = 0; S.psrc = ''; S.pkind = 0; S.pbud = 0; S.pbT = 0; S.pday = 0
end
local function ensure()
  if exists then return false end
  for _, f in ipairs(F) do if STR[f] then S[f] = '' else S[f] = 0 end end
  S.day = dayOf(now); S.fac = 1
  setEst(IN)
  exists = true
  return true
end
local function interval() return math.ceil(math.max(S.bT, S.rob) * S.fac) end
local function fmt(v)
  if type(v) == 'number' then return string.format('%.17g', v) end
  return v
end
local function save()
  local args = {}
  for _, f in ipairs(F) do
    if not exists or S[f] ~= O[f] then args[#args + 1] = f; args[#args + 1] = fmt(S[f]) end
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
  redis.call('PEXPIRE', key, P.ttl)
end
local function reply(head)
  local out = {fmt(now), exists and '1' or '0'}
  for _, v in ipairs(head) do out[#out + 1] = fmt(v) end
  for _, f in ipairs(F) do out[#out + 1] = fmt(S[f]) end
  return out
end
`

// reserveScript reserves the next free slot for one request (GCRA), charges
// it to its day, and returns how long to wait. Reply head: ok flags slot t
// until count limit.
//
// ARGV[18] is a deadline in Redis time (0: none): a call that reaches the
// server after it, because the server was paused or slow, changes nothing
// and replies ok = 2, so that a reservation nobody waits for any more does
// not use up a slot.
const reserveScript = scriptPrelude + `
local deadline = tonumber(A[18] or '0')
if deadline > 0 and now > deadline then return reply({2, 0, 0, 0, 0, 0, 0}) end
local init = ensure()
local t = interval()
local slot = math.max(now, S.hold, S.tat - (P.burst - 1) * t)
local promoted = false
if S.pest > 0 and dayOf(slot) >= S.pday then
  setEst({est = S.pest, lo = S.plo, hi = S.phi, src = S.psrc, kind = S.pkind, bud = S.pbud, bT = S.pbT})
  promoted = true
end
t = interval()
local d = math.max(dayOf(slot), S.day)
if d > S.day then S.day = d; S.cnt = 0 end
local limit = math.floor(S.bud)
local flags = (init and 1 or 0) + (promoted and 4 or 0)
if S.cnt >= limit then
  save()
  return reply({0, flags, 0, 0, (d + 1) * P.dayLen, S.cnt, limit})
end
S.cnt = S.cnt + 1
S.gr = S.gr + 1
S.tat = math.max(S.tat, slot) + t
save()
return reply({1, flags, slot, t, 0, S.cnt, limit})
`

// updateScript applies feedback and settings. ARGV[18] is the operation:
//
//	status                        read only
//	cancel   slot t               give back an unused reservation
//	obs      status latency retryAfter err(0/1) jitter [channel site]
//	         (a new hold is published on channel as "SITE HOLD_UNTIL_µs")
//	robots   delay
//	estimate est src kind budget budgetT low high
//
// Reply head: change initflag.
const updateScript = scriptPrelude + `
local op = A[18]
if op == 'status' then return reply({''}) end
if op == 'cancel' then
  if not exists then return reply({''}) end
  local slot, t = tonumber(A[19]), tonumber(A[20])
  if dayOf(slot) == S.day and S.cnt > 0 then S.cnt = S.cnt - 1 end
  if S.gr > 0 then S.gr = S.gr - 1 end
  if S.tat == slot + t then S.tat = slot end
  save()
  return reply({''})
end
local init = ensure()
local c = ''
if op == 'obs' then
  local status, lat, ra, isErr, jit = tonumber(A[19]), tonumber(A[20]), tonumber(A[21]), A[22] == '1', tonumber(A[23])
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
      if A[24] and A[24] ~= '' then redis.call('PUBLISH', A[24], A[25] .. ' ' .. fmt(S.hold)) end
    end
  else
    local slowLat = S.ewma > 2 * S.base
    local slowErr = S.err > 0.2
    if S.nobs >= 5 and (slowLat or slowErr) then
      if now - S.adapt >= P.adaptEvery and S.fac < P.maxFac then
        S.fac = math.min(S.fac * 1.5, P.maxFac); S.adapt = now; c = 'slower'
      end
    elseif not isErr and S.fac > 1 and now - S.adapt >= P.adaptEvery then
      S.fac = math.max(S.fac * 0.9, 1); S.adapt = now; c = 'faster'
    end
  end
elseif op == 'robots' then
  local d = tonumber(A[19])
  if S.rob ~= d then S.rob = d; c = 'robots' end
elseif op == 'estimate' then
  local e = {est = tonumber(A[19]), src = A[20], kind = tonumber(A[21]), bud = tonumber(A[22]), bT = tonumber(A[23]),
    lo = tonumber(A[24]), hi = tonumber(A[25])}
  if e.bud < S.bud then
    setEst(e); c = 'estimate:lower'
  elseif e.bud > S.bud then
    S.pest = e.est; S.plo = e.lo; S.phi = e.hi; S.psrc = e.src; S.pkind = e.kind; S.pbud = e.bud; S.pbT = e.bT
    S.pday = dayOf(now) + 1
    c = 'estimate:raise'
  end
else
  return redis.error_reply('goodbot limiter: unknown operation ' .. tostring(op))
end
save()
return reply({c, init and 1 or 0})
`

// fmtNum formats v as the scripts read it.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fmtInt(v int64) string { return strconv.FormatInt(v, 10) }

// scriptArgs returns the common arguments.
func scriptArgs(nowOverride int64, p params, ttlMillis int64, in estimateArgs) []any {
	return []any{
		fmtInt(nowOverride),
		fmtInt(p.DayLen), fmtInt(p.Burst), fmtInt(p.MaxHold), fmtInt(p.BaseBackoff), fmtInt(p.MaxBackoff),
		fmtInt(p.Forgive), fmtInt(p.AdaptEvery), fmtNum(p.MaxFactor), fmtInt(ttlMillis),
		fmtNum(in.Est), in.Source, fmtInt(in.Kind), fmtNum(in.Budget), fmtInt(in.BudgetT), fmtNum(in.Low), fmtNum(in.High),
	}
}

// scriptReply is a parsed script reply.
type scriptReply struct {
	now  int64
	head []string
	st   state
}

// parseReply parses a reply with a head of n values.
func parseReply(v []string, n int) (scriptReply, error) {
	var r scriptReply
	if len(v) != 2+n+len(stateFields) {
		return r, fmt.Errorf("script reply has %d values, want %d", len(v), 2+n+len(stateFields))
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
			err = fmt.Errorf("script reply: field %s = %q: %w", stateFields[i], f[i], err)
		}
		return x
	}
	in := func(i int) int64 { return int64(num(i)) }
	s := &r.st
	s.TAT, s.Day, s.Count, s.Granted = in(0), in(1), in(2), in(3)
	s.Est, s.Low, s.High, s.Source, s.Kind, s.Budget, s.BudgetT = num(4), num(5), num(6), f[7], in(8), num(9), in(10)
	s.PendEst, s.PendLow, s.PendHigh, s.PendSource, s.PendKind, s.PendBudget, s.PendBudgetT, s.PendDay = num(11), num(12), num(13), f[14], in(15), num(16), in(17), in(18)
	s.Robots, s.Factor, s.Hold, s.K = in(19), num(20), in(21), in(22)
	s.EWMA, s.Base, s.ErrRate, s.NObs, s.Adapt = num(23), num(24), num(25), in(26), in(27)
	return r, err
}

func headInt(h []string, i int) (int64, error) {
	x, err := strconv.ParseFloat(h[i], 64)
	if err != nil {
		return 0, fmt.Errorf("script reply: value %d = %q: %w", i, h[i], err)
	}
	return int64(x), nil
}
