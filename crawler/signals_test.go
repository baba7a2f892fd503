package crawler

import (
	"net/http"
	"testing"
)

// A challenge page in GBK is recognised by its decoded title, whether its
// charset is declared only in <meta> or only in the Content-Type header.
func TestGBKChallengePage(t *testing.T) {
	for name, c := range map[string]struct{ ctype, head string }{
		"meta":   {"text/html", `<meta charset="gbk">`},
		"header": {"text/html; charset=GBK", ``},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestSite(t)
			ts.links("/index", "/wall", "/a", "/b")
			body := gbk(t, `<html><head>`+c.head+`<title>安全验证</title></head><body><p>请完成验证后继续访问</p></body></html>`)
			ts.handle("/wall", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.ctype)
				w.Write([]byte(body))
			})
			cfg := testConfig(t, &recorder{}, ts)
			cfg.Parallel = 1
			cfg.Workers = 1
			_, sum := crawl(t, cfg, ts.url("/index"))
			if sum.Challenges != 1 {
				t.Fatalf("challenges = %d, want 1; requests %v", sum.Challenges, ts.uris())
			}
			if _, ok := sum.Stopped[ts.site()]; !ok {
				t.Fatalf("site not stopped: %v", sum.Stopped)
			}
			if uris := ts.uris(); uris[len(uris)-1] != "/wall" {
				t.Fatalf("requests after the challenge page: %v", uris)
			}
		})
	}
}
