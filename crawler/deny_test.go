package crawler

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/audit"
)

func TestParseDenyEntry(t *testing.T) {
	for in, want := range map[string]string{
		"*.mil.cn": "*.mil.cn", " WWW.Example.ORG. ": "www.example.org", "*.例子.测试": "*.xn--fsqu00a.xn--0zwm56d",
		"127.0.0.1": "127.0.0.1", "[::1]": "::1", "::ffff:10.0.0.1": "10.0.0.1", "a_b.example": "a_b.example",
	} {
		got, err := ParseDenyEntry(in)
		if err != nil || got != want {
			t.Errorf("ParseDenyEntry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "*", "*.", "**.cn", "a.*.cn", "http://x.cn/", "x.cn:80", "x cn", "-x.cn", "*.10.0.0.1", "x..cn"} {
		if got, err := ParseDenyEntry(in); err == nil {
			t.Errorf("ParseDenyEntry(%q) = %q; want an error", in, got)
		}
	}
}

func TestReadDenyList(t *testing.T) {
	got, err := ReadDenyList(strings.NewReader("# hosts we keep off\n\n*.gov.cn   # state affairs\nlab.example.edu\n"), "deny.txt")
	if err != nil || strings.Join(got, ",") != "*.gov.cn,lab.example.edu" {
		t.Fatalf("ReadDenyList = %q, %v", got, err)
	}
	_, err = ReadDenyList(strings.NewReader("ok.example\n\nhttp://bad.example/\n"), "deny.txt")
	if err == nil || !strings.Contains(err.Error(), "deny.txt line 3") {
		t.Fatalf("error %v, want it to name deny.txt line 3", err)
	}
}

func TestDenyMatch(t *testing.T) {
	d, err := newDenyList([]string{"*.gov.cn", "lab.example.edu"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"mil.cn": true, "www.mil.cn": true, "A.B.MIL.CN.": true, "mil.cn.example.org": false, "xmil.cn": false,
		"www.gov.cn": true, "lab.example.edu": true, "www.lab.example.edu": false, "example.edu": false,
	} {
		if _, got := d.match(host); got != want {
			t.Errorf("match(%q) = %v, want %v", host, got, want)
		}
	}
}

// The denylist refuses seeds with an error citing the rule, and links and
// redirects with a recorded decision, before anything is sent; no
// relaxation lifts it.
func TestDenylist(t *testing.T) {
	ts := newTestSite(t)
	ts.links("/index", "http://www.mil.cn/", "http://lab.example.edu/x", "/go-mil", "/ok")
	ts.handle("/go-mil", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://ndu.mil.cn/", http.StatusFound)
	})
	rec := &recorder{}
	cfg := testConfig(t, rec, ts)
	cfg.Deny = []string{"lab.example.edu", "*.example.test"}
	cfg.AllowedHosts = []string{"www.mil.cn", "lab.example.edu", "ndu.mil.cn"}

	cr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for seed, want := range map[string]string{
		"http://www.mil.cn/":      "*.mil.cn on goodbot's built-in denylist: national defence systems; Criminal Law of the PRC, Art. 285(1)",
		"https://a.example.test/": "*.example.test on the operator's denylist (Config.Deny[1])",
	} {
		err := cr.Seed(seed)
		var re *RefusedError
		if !errors.As(err, &re) || re.Gate != "denylist" || !strings.Contains(re.Reason, want) {
			t.Errorf("Seed(%s) = %v; want a denylist refusal naming %q", seed, err, want)
		}
	}
	cr.Close()

	_, sum := crawl(t, cfg, ts.url("/index"))
	if ts.count("/ok") != 1 || sum.Sent == 0 {
		t.Fatalf("the crawl did not run: %v", ts.uris())
	}
	refused := map[string]audit.Decision{}
	for _, e := range rec.all(audit.TypeDecision) {
		if d := e.Decision; d.Verdict == audit.Refuse && len(d.Checks) > 0 && d.Checks[len(d.Checks)-1].Gate == "denylist" {
			refused[d.URL] = *d
		}
	}
	for u, kind := range map[string]string{"http://www.mil.cn/": "link", "http://lab.example.edu/x": "link", "http://ndu.mil.cn/": "redirect", "https://a.example.test/": "seed"} {
		d, ok := refused[u]
		if !ok || d.Kind != kind {
			t.Errorf("%s: decision %+v; want a %s refused by the denylist", u, d, kind)
		}
	}
	if !strings.Contains(refused["http://ndu.mil.cn/"].Reason, "Art. 285(1)") {
		t.Errorf("redirect refused with %q; want the article cited", refused["http://ndu.mil.cn/"].Reason)
	}

	for _, r := range []Relaxation{
		{Kind: IgnoreRobots, Site: "www.mil.cn", Justification: "they said yes"},
		{Kind: FollowRelNofollow, Site: "mil.cn", Justification: "they said yes"},
	} {
		c := testConfig(t, &recorder{}, ts)
		c.Relaxations = []Relaxation{r}
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), "built-in denylist") {
			t.Errorf("New with relaxation %v: %v; want it refused", r, err)
		}
	}
	c := testConfig(t, &recorder{}, ts)
	c.Deny = []string{"ok.example", "not a host"}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "Deny[1]") {
		t.Errorf("New with a bad Deny entry: %v; want an error naming Deny[1]", err)
	}
}
