package job

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/internal/redistest"
)

func TestRobotsStoreClaimSaveLoad(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	ctx := ctxT(t)
	a, err := NewRobotsStore(redistest.Client(t, addr), job, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewRobotsStore(redistest.Client(t, addr), job, 0)
	const origin = "http://r.test"
	if _, ok, err := a.Load(ctx, origin); err != nil || ok {
		t.Fatalf("Load of nothing = %v, %v", ok, err)
	}
	if won, err := a.Claim(ctx, origin, 5*time.Second); err != nil || !won {
		t.Fatalf("first Claim = %v, %v", won, err)
	}
	if won, err := b.Claim(ctx, origin, 5*time.Second); err != nil || won {
		t.Fatalf("second Claim = %v, %v; want lost", won, err)
	}
	st := robots.Stored{URL: origin + "/robots.txt", Status: 200, Body: []byte("User-agent: *\nDisallow: /x\n"),
		Policy: robots.PolicyParsed, FetchedAt: time.Now().UTC(), Expires: time.Now().Add(700 * time.Millisecond).UTC()}
	if err := a.Save(ctx, origin, st); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.Load(ctx, origin)
	if err != nil || !ok || string(got.Body) != string(st.Body) || got.Policy != st.Policy || !got.Expires.Equal(st.Expires) {
		t.Fatalf("Load = %+v, %v, %v", got, ok, err)
	}
	// Save released the claim.
	if won, err := b.Claim(ctx, origin, 5*time.Second); err != nil || !won {
		t.Errorf("Claim after Save = %v, %v; want won", won, err)
	}
	// Expired entries are gone, from Redis too.
	time.Sleep(800 * time.Millisecond)
	if _, ok, err := b.Load(ctx, origin); err != nil || ok {
		t.Errorf("Load after Expires = %v, %v", ok, err)
	}
	if n, _ := redistest.Client(t, addr).Exists(ctx, Prefix(job)+"robots:"+origin).Result(); n != 0 {
		t.Errorf("robots key still in Redis after Expires")
	}
	// A claim lapses after its ttl.
	if won, _ := a.Claim(ctx, "http://lapse.test", 100*time.Millisecond); !won {
		t.Fatal("Claim lost")
	}
	time.Sleep(200 * time.Millisecond)
	if won, _ := b.Claim(ctx, "http://lapse.test", time.Second); !won {
		t.Error("Claim after the first lapsed: lost")
	}
}

// Five robots caches, each with its own client, fetch a site's robots.txt
// once between them.
func TestRobotsStoreFetchOncePerJob(t *testing.T) {
	addr := redistest.Addr(t)
	job := testJob(t, addr)
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fetches.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
		w.Write([]byte("User-agent: *\nDisallow: /private\n"))
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	for range 5 {
		store, err := NewRobotsStore(redistest.Client(t, addr), job, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := robots.NewCache(nil, robots.Options{ProductToken: "goodbot", Shared: store})
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, _ := url.Parse(srv.URL + "/private/a")
			v, err := c.Check(context.Background(), u)
			if err != nil || v.Allowed {
				t.Errorf("Check = %+v, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("robots.txt fetched %d times by 5 workers of one job, want 1", n)
	}
}
