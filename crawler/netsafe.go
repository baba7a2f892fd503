package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// A link or redirect found on a public site must not lead the crawler into
// a private network (loopback, RFC 1918, link-local, unique-local, CGNAT):
// that would make goodbot a tool for reaching machines the public web cannot.
// Seeds the user typed may be anywhere.

// addrPolicy tells the dialer whether this request may connect to a
// non-public address. The gate sets it on each outgoing request's context.
type addrPolicyKey struct{}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPublic reports whether a is a public unicast address.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	if a.Is4() && cgnat.Contains(a) {
		return false
	}
	return true
}

// addrChecker classifies hosts as public or not, caching DNS answers for a
// short time.
type addrChecker struct {
	resolver *net.Resolver
	public   func(netip.Addr) bool // isPublic; tests may replace it

	mu    sync.Mutex
	cache map[string]hostClass
}

type hostClass struct {
	public  bool
	expires time.Time
}

func newAddrChecker() *addrChecker {
	return &addrChecker{resolver: net.DefaultResolver, public: isPublic, cache: map[string]hostClass{}}
}

// hostPublic reports whether every address host resolves to is public.
func (c *addrChecker) hostPublic(ctx context.Context, host string) (bool, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return c.public(a), nil
	}
	now := time.Now()
	c.mu.Lock()
	hc, ok := c.cache[host]
	c.mu.Unlock()
	if ok && now.Before(hc.expires) {
		return hc.public, nil
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return false, fmt.Errorf("resolve %s: %w", host, err)
	}
	pub := len(addrs) > 0
	for _, a := range addrs {
		if !c.public(a) {
			pub = false
		}
	}
	c.mu.Lock()
	c.cache[host] = hostClass{public: pub, expires: now.Add(time.Minute)}
	c.mu.Unlock()
	return pub, nil
}

// control is the dialer's last check, against DNS answers that changed
// between the gate's check and the connection.
func (c *addrChecker) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	allowPrivate, _ := ctx.Value(addrPolicyKey{}).(bool)
	if allowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("goodbot: dial %s: %w", address, err)
	}
	if !c.public(ap.Addr()) {
		return fmt.Errorf("goodbot: refusing to connect to non-public address %s", address)
	}
	return nil
}

// keepAliveWithin is the longest interval between two requests to a site
// for which the connection is kept open between them: a request whose
// site's next slot is further away asks for the connection to be closed
// after its answer (see gate.send). An idle connection costs both ends
// memory (here a read and a write buffer of 4 KiB and two goroutines),
// and many servers close one idle that long anyway (Apache's
// KeepAliveTimeout is 5s).
const keepAliveWithin = 5 * time.Second

// newBaseTransport returns the only transport that sends goodbot's requests.
// It uses no proxy: goodbot never hides where its requests come from.
//
// Idle connections are kept only for sites paced keepAliveWithin or
// closer, so they are dropped after a few such intervals without use: the
// site has nothing more queued, or too many sites are crawled at once
// for MaxIdleConns to keep theirs.
func newBaseTransport(ac *addrChecker, perHost int) *http.Transport {
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, ControlContext: ac.control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   perHost + 2,
		IdleConnTimeout:       3 * keepAliveWithin,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// PublicAddr reports whether a is a public unicast address: not loopback,
// RFC 1918, link-local, unique-local or CGNAT. It is the test the gate
// applies before following a link from a public site to an address.
func PublicAddr(a netip.Addr) bool { return isPublic(a) }
