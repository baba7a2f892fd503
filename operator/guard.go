package operator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// csrfCookie is the cookie of the signed double-submit CSRF token.
const csrfCookie = "goodbot_csrf"

// csrf implements the signed double-submit pattern: a random cookie
// (SameSite=Strict, HttpOnly), and in each form the HMAC of that cookie
// under a key only the server knows. A request with a missing or
// mismatched pair is refused; an attacker who can plant a cookie (a
// sibling subdomain) still cannot compute the form value.
type csrf struct {
	key [32]byte
}

func newCSRF() *csrf {
	c := &csrf{}
	rand.Read(c.key[:]) // never fails (crypto/rand)
	return c
}

// token returns the form token for r, setting a new cookie on w if r has
// none.
func (c *csrf) token(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
		v = ck.Value
	} else {
		v = randomString(32)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 24 * 3600})
	}
	return c.mac(v)
}

func (c *csrf) mac(v string) string {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check reports whether the form value of r matches its cookie, and that a
// browser's Origin header, when sent, names this server.
func (c *csrf) check(r *http.Request, formValue string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	ck, err := r.Cookie(csrfCookie)
	if err != nil || ck.Value == "" || formValue == "" {
		return false
	}
	return hmac.Equal([]byte(c.mac(ck.Value)), []byte(formValue))
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientLimiter is a per-client token bucket with a bounded table: when it is
// full, clients idle long enough to have a full bucket are dropped first
// (forgetting them costs nothing), then the least recently seen.
type clientLimiter struct {
	every rate.Limit
	burst int
	max   int

	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(every rate.Limit, burst, max int) *clientLimiter {
	return &clientLimiter{every: every, burst: burst, max: max, clients: map[string]*client{}}
}

// allow reports whether key may make one more request now.
func (l *clientLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[key]
	if c == nil {
		if len(l.clients) >= l.max {
			l.evict(now)
		}
		c = &client{lim: rate.NewLimiter(l.every, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	return c.lim.AllowN(now, 1)
}

// evict makes room in a full table.
func (l *clientLimiter) evict(now time.Time) {
	for k, c := range l.clients {
		if c.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.clients, k)
		}
	}
	for len(l.clients) >= l.max {
		var oldest string
		var at time.Time
		for k, c := range l.clients {
			if oldest == "" || c.seen.Before(at) {
				oldest, at = k, c.seen
			}
		}
		delete(l.clients, oldest)
	}
}

// size returns the number of clients the table holds.
func (l *clientLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// remoteIP is the default Config.ClientKey: the peer's IP address, with
// IPv6 addresses grouped by /64 (one host usually has a whole /64).
func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		h = r.RemoteAddr
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return h
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
