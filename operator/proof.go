package operator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/goodbot/goodbot/crawler"
)

// ProofPath is where a complainant proves control of a site: the body of
// https://SITE/.well-known/goodbot-complaint/RECEIPT must contain the proof
// token their receipt shows.
const ProofPath = "/.well-known/goodbot-complaint/"

// proofPrefix starts every proof token.
const proofPrefix = "goodbot-proof-"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newSecret returns 16 random bytes (128 bits) as 26 lower-case base32
// characters.
func newSecret() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return strings.ToLower(b32.EncodeToString(b))
}

// isSecret reports whether s has the form newSecret returns.
func isSecret(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// newProofToken returns a proof token and the hex SHA-256 the board keeps
// of it.
func newProofToken() (token, digest string) {
	token = proofPrefix + newSecret()
	return token, tokenDigest(token)
}

func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// bodyHasToken reports whether body contains a proof token whose digest is
// digest.
func bodyHasToken(body []byte, digest string) bool {
	want, err := hex.DecodeString(digest)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	for rest := body; ; {
		i := bytes.Index(rest, []byte(proofPrefix))
		if i < 0 {
			return false
		}
		rest = rest[i+len(proofPrefix):]
		if len(rest) >= 26 && isSecret(string(rest[:26])) {
			sum := sha256.Sum256([]byte(proofPrefix + string(rest[:26])))
			if subtle.ConstantTimeCompare(sum[:], want) == 1 {
				return true
			}
		}
	}
}

// A Prover fetches the proof page at rawURL, on site (a site key), and
// returns its body.
type Prover func(ctx context.Context, site, rawURL string) ([]byte, error)

// MaxProofBody bounds the body of a proof page.
const MaxProofBody = 64 << 10

// ProofWait is the longest a proof fetch waits for the site's budget; a
// later slot is reported to the complainant as the time to try again.
const ProofWait = 15 * time.Second

// GateProver returns a Prover that fetches each proof page through the gate
// of a crawler.Crawler made from base for that one request: the request
// carries goodbot's honest User-Agent (and its Web Bot Auth signature, when
// base signs), is decided on and recorded in base.Sink before it leaves,
// waits for and is counted against the site's budget in base.Limiter, and
// its answer passes the personal-data filter.
//
// Two rules are relaxed for it, because the site's operator asked for this
// request: robots.txt (the complainant has usually just written
// "Disallow: /" for goodbot), through an IgnoreRobots Relaxation that the
// operation log records with the complaint's receipt; and the stop list
// (the site is on it, because of this very complaint), by not giving the
// proof crawler the job's stop list. Nothing is stored (no OutDir) and
// nothing is followed (MaxPages 1, MaxDepth 1, no retries).
//
// base.Sink and base.Limiter should be set and shared by every proof, so
// that the fetches land in one log and one budget; base.Contact is
// required. base.StopList, OutDir, State and Frontier are ignored.
func GateProver(base crawler.Config) Prover {
	return func(ctx context.Context, s, rawURL string) ([]byte, error) {
		cfg := base
		cfg.Relaxations = append(append([]crawler.Relaxation(nil), base.Relaxations...), crawler.Relaxation{
			Kind: crawler.IgnoreRobots, Site: s,
			Justification: "complaint proof fetch " + rawURL + ", asked for by the complainant through the operator page",
		})
		cfg.StopList, cfg.OutDir, cfg.State, cfg.Frontier = nil, "", nil, nil
		cfg.MaxPages, cfg.MaxDepth, cfg.MaxRetries = 1, 1, -1
		cfg.MaxBodySize = MaxProofBody
		// A slot later than this is reported (try again then), within
		// the time a person waits for the page to answer.
		cfg.MaxWait, cfg.Horizon = ProofWait, ProofWait
		cr, err := crawler.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("operator: proof crawler: %w", err)
		}
		var body []byte
		var fetchErr error
		cr.OnResponse(func(r *colly.Response) { body = append([]byte(nil), r.Body...) })
		cr.OnError(func(r *colly.Response, err error) {
			if r != nil && r.StatusCode != 0 {
				fetchErr = fmt.Errorf("%s answered %d", rawURL, r.StatusCode)
			} else {
				fetchErr = err
			}
		})
		if err := cr.Seed(rawURL); err != nil {
			return nil, fmt.Errorf("operator: proof URL: %w", err)
		}
		sum, err := cr.Run(ctx)
		switch {
		case err != nil:
			return nil, fmt.Errorf("operator: proof fetch: %w", err)
		case body != nil:
			return body, nil
		case fetchErr != nil:
			return nil, fmt.Errorf("operator: proof fetch: %w", fetchErr)
		}
		if d, ok := sum.Deferred[s]; ok {
			return nil, fmt.Errorf("operator: proof fetch deferred until %s by the site's budget; try again then", d.Until.UTC().Format("2006-01-02 15:04 MST"))
		}
		return nil, fmt.Errorf("operator: proof fetch: nothing fetched (%s)", sum.Reason)
	}
}

// errPrivate is returned for a proof on a site that resolves to a
// non-public address.
var errPrivate = errors.New("the site resolves to a non-public address, which the operator page does not fetch from; the operator confirms such a complaint by hand")

// checkPublic refuses a site whose host is or resolves to a non-public
// address, so that the complaint form cannot make goodbot fetch from the
// operator's own network. (The crawler resolves again when it connects; a
// name that changes its answer in between could still get through, which
// is why AllowPrivate is off by default and the fetch is logged.)
func checkPublic(ctx context.Context, r *net.Resolver, s string) error {
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{a}
	} else {
		as, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return fmt.Errorf("resolving %s: %w", host, err)
		}
		addrs = as
	}
	for _, a := range addrs {
		if !crawler.PublicAddr(a) {
			return errPrivate
		}
	}
	return nil
}
