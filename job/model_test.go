package job

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/internal/redistest"
)

// TestFrontierModel drives a Frontier with random operations and checks
// every answer against a simple model of frontier.Memory's rules: FIFO per
// site, at most PerSite leases of a site, MaxPages counting leases out,
// dedup, Retry, DropSite, ErrDone only when nothing is queued or out.
// It does not model the order of sites (any site with work and a free
// slot may be next), only that the leased item is the head of its site.
func TestFrontierModel(t *testing.T) {
	addr := redistest.Addr(t)
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			job := testJob(t, addr)
			ctx := ctxT(t)
			const perSite, maxPages = 2, 40
			f := newTestFrontier(t, redistest.Client(t, addr), job, FrontierOptions{PerSite: perSite, MaxPages: maxPages, PollMax: 10 * time.Millisecond})
			rng := rand.New(rand.NewPCG(seed, 7))
			sites := []string{"a.test", "b.test", "c.test", "d.test"}

			var (
				queues   = map[string][]string{} // ready URLs per site, in order
				delayed  = map[string][]string{} // deferred an hour
				inflight = map[string]int{}
				seen     = map[string]bool{}
				dropped  = map[string]bool{}
				leases   []frontier.Lease
				pages    int
			)
			nQueued := func() (n int) {
				for s := range queues {
					n += len(queues[s]) + len(delayed[s])
				}
				return n
			}
			nOut := func() (n int) {
				for _, v := range inflight {
					n += v
				}
				return n
			}
			for step := range 400 {
				switch op := rng.IntN(10); {
				case op < 4: // Add
					s := sites[rng.IntN(len(sites))]
					u := fmt.Sprintf("http://%s/%d", s, rng.IntN(60))
					ok, err := f.Add(ctx, frontier.Item{URL: u, Site: s})
					want := !seen[u] && !dropped[s]
					if err != nil || ok != want {
						t.Fatalf("step %d: Add(%s) = %v, %v; want %v", step, u, ok, err, want)
					}
					if want {
						seen[u] = true
						queues[s] = append(queues[s], u)
					}
				case op < 7: // Next
					limit := pages+nOut() >= maxPages
					avail := false
					for s, q := range queues {
						if len(q) > 0 && inflight[s] < perSite {
							avail = true
						}
					}
					nctx, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
					l, err := f.Next(nctx)
					cancel()
					switch {
					case avail && !limit:
						if err != nil {
							t.Fatalf("step %d: Next = %v, want a lease", step, err)
						}
						s := l.Item.Site
						if q := queues[s]; len(q) == 0 || q[0] != l.Item.URL || inflight[s] >= perSite {
							t.Fatalf("step %d: leased %s; site queue %v, %d out", step, l.Item.URL, q, inflight[s])
						}
						queues[s] = queues[s][1:]
						inflight[s]++
						leases = append(leases, l)
					case nOut() == 0 && (limit || nQueued() == 0):
						if !errors.Is(err, frontier.ErrDone) {
							t.Fatalf("step %d: Next = %+v, %v; want ErrDone", step, l, err)
						}
					default:
						if !errors.Is(err, context.DeadlineExceeded) {
							t.Fatalf("step %d: Next = %+v, %v; want to wait", step, l, err)
						}
					}
				case op < 9 && len(leases) > 0: // Complete or Retry
					i := rng.IntN(len(leases))
					l := leases[i]
					leases = slices.Delete(leases, i, i+1)
					s := l.Item.Site
					inflight[s]--
					switch rng.IntN(3) {
					case 0:
						if err := f.Retry(ctx, l, time.Time{}); err != nil {
							t.Fatal(err)
						}
						if !dropped[s] {
							queues[s] = append(queues[s], l.Item.URL)
						}
					case 1:
						if err := f.Retry(ctx, l, time.Now().Add(time.Hour)); err != nil {
							t.Fatal(err)
						}
						if !dropped[s] {
							delayed[s] = append(delayed[s], l.Item.URL)
						}
					default:
						if err := f.Complete(ctx, l, true); err != nil {
							t.Fatal(err)
						}
						pages++
					}
				case op == 9 && rng.IntN(4) == 0: // DropSite, rarely
					s := sites[rng.IntN(len(sites))]
					n, err := f.DropSite(ctx, s)
					if want := len(queues[s]) + len(delayed[s]); err != nil || n != want {
						t.Fatalf("step %d: DropSite(%s) = %d, %v; want %d", step, s, n, err, want)
					}
					dropped[s] = true
					queues[s], delayed[s] = nil, nil
				}
				st, err := f.Stats(ctx)
				want := frontier.Stats{Queued: nQueued(), InFlight: nOut(), Seen: len(seen), Pages: pages}
				if err != nil || st != want {
					t.Fatalf("step %d: Stats = %+v, %v; want %+v", step, st, err, want)
				}
			}
		})
	}
}
