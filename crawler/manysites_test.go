package crawler

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goodbot/goodbot/audit"
	"github.com/goodbot/goodbot/crawler/frontier"
	"github.com/goodbot/goodbot/crawler/robots"
	"github.com/goodbot/goodbot/internal/redistest"
	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/limiter"
)

// A many-site crawl: n loopback sites, each a listener of its own on a
// distinct address 127.10.x.y (the whole of 127/8 is loopback on Linux), all
// on one port, so that every site is a site key of its own with its own
// connection pool, limiter state and frontier queue, as distinct hosts are.
// The addresses are reached as seeds the user gave, the legitimate path by
// which goodbot contacts a non-public address (see netsafe.go).

// manySite is what the server saw of one site.
type manySite struct {
	mu       sync.Mutex
	count    int
	first    time.Time
	last     time.Time
	minGap   time.Duration // smallest gap between two arrivals; 0 before the second
	inFlight int
}

// manyServer serves every site from one handler and keeps, per site, only
// counters and the smallest gap between arrivals (bounded memory).
type manyServer struct {
	pages int // pages per site: /p/0 links to /p/1 ... /p/pages-1
	sites []manySite
	index map[string]int // Host header -> site
	hosts []string       // site -> "127.10.x.y:port"

	srv       *http.Server
	listeners []net.Listener
	conns     atomic.Int64 // open connections, server side
	peakConns atomic.Int64
	parallel  atomic.Int64 // most requests at once to any one site

	robotsRequests atomic.Int64
}

// manyAddr is the loopback address of site i (i < 64,000).
func manyAddr(i int) string {
	return fmt.Sprintf("127.10.%d.%d", i/250, i%250+1)
}

// raiseFileLimit raises the soft limit on open files to the hard limit.
func raiseFileLimit(tb testing.TB) uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		tb.Fatal(err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		tb.Fatal(err)
	}
	return rl.Cur
}

// newManyServer starts n sites of pages pages each.
func newManyServer(tb testing.TB, n, pages int) *manyServer {
	tb.Helper()
	if n > 64000 {
		tb.Fatalf("at most 64,000 sites, not %d", n)
	}
	if lim := raiseFileLimit(tb); uint64(n)+2000 > lim {
		tb.Skipf("%d sites need more than the %d open files allowed", n, lim)
	}
	ms := &manyServer{pages: pages, sites: make([]manySite, n), index: make(map[string]int, n), hosts: make([]string, n)}
	filler := strings.Repeat("<p>Lorem ipsum dolor sit amet.</p>", 20)
	ms.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i, ok := ms.index[r.Host]
			if !ok {
				http.Error(w, "unknown site", http.StatusMisdirectedRequest)
				return
			}
			st := &ms.sites[i]
			now := time.Now()
			st.mu.Lock()
			if st.count > 0 {
				if g := now.Sub(st.last); st.count == 1 || g < st.minGap {
					st.minGap = g
				}
			} else {
				st.first = now
			}
			st.count++
			st.last = now
			st.inFlight++
			p := int64(st.inFlight)
			st.mu.Unlock()
			for {
				old := ms.parallel.Load()
				if p <= old || ms.parallel.CompareAndSwap(old, p) {
					break
				}
			}
			defer func() {
				st.mu.Lock()
				st.inFlight--
				st.mu.Unlock()
			}()
			if r.URL.Path == "/robots.txt" {
				ms.robotsRequests.Add(1)
				io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
				return
			}
			k, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
			if err != nil || k < 0 || k >= pages {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><head><title>Site %d page %d</title></head><body>%s", i, k, filler)
			if k == 0 {
				for j := 1; j < pages; j++ {
					fmt.Fprintf(w, `<a href="/p/%d">p%d</a> `, j, j)
				}
			} else {
				io.WriteString(w, `<a href="/p/0">home</a>`)
			}
			io.WriteString(w, "</body></html>")
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				n := ms.conns.Add(1)
				for {
					old := ms.peakConns.Load()
					if n <= old || ms.peakConns.CompareAndSwap(old, n) {
						break
					}
				}
			case http.StateClosed, http.StateHijacked:
				ms.conns.Add(-1)
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	first, err := net.Listen("tcp", manyAddr(0)+":0")
	if err != nil {
		tb.Skipf("cannot listen on %s (loopback addresses beyond 127.0.0.1 needed): %v", manyAddr(0), err)
	}
	port := first.Addr().(*net.TCPAddr).Port
	ms.listeners = append(ms.listeners, first)
	for i := 1; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(manyAddr(i), strconv.Itoa(port)))
		if err != nil {
			ms.close()
			tb.Fatalf("listen for site %d: %v", i, err)
		}
		ms.listeners = append(ms.listeners, l)
	}
	for i, l := range ms.listeners {
		h := l.Addr().String()
		ms.index[h] = i
		ms.hosts[i] = h
		go ms.srv.Serve(l)
	}
	tb.Cleanup(ms.close)
	return ms
}

func (ms *manyServer) close() {
	ms.srv.Close()
	for _, l := range ms.listeners {
		l.Close()
	}
}

// budgetReport checks every site's arrivals against its interval: no gap
// shorter than interval-tol, and no more arrivals than the span allows.
// Its fields are exported for the child process's report (manyProc).
type budgetReport struct {
	Requests   int
	Robots     int // of Requests, those for robots.txt
	SitesSeen  int
	Violations []string
	MinGap     time.Duration // smallest gap of any site
}

// manySites is a many-site server: in this process (manyServer), or in a
// child process (manyProc), which keeps the server's memory, goroutines
// and CPU out of the crawler's figures.
type manySites interface {
	// siteHosts returns each site's "127.10.x.y:port".
	siteHosts() []string
	// stats returns the connections open now and at most, and the most
	// requests at once to any one site.
	stats() (conns, peakConns, parallel int64)
	// check reports on every site's arrivals (see budgetReport).
	check(interval, tol time.Duration) budgetReport
}

func (ms *manyServer) siteHosts() []string { return ms.hosts }

func (ms *manyServer) stats() (conns, peakConns, parallel int64) {
	return ms.conns.Load(), ms.peakConns.Load(), ms.parallel.Load()
}

func (ms *manyServer) check(interval, tol time.Duration) budgetReport {
	rep := budgetReport{MinGap: -1, Robots: int(ms.robotsRequests.Load())}
	for i := range ms.sites {
		st := &ms.sites[i]
		st.mu.Lock()
		count, first, last, gap := st.count, st.first, st.last, st.minGap
		st.mu.Unlock()
		rep.Requests += count
		if count == 0 {
			continue
		}
		rep.SitesSeen++
		if count < 2 {
			continue
		}
		if rep.MinGap < 0 || gap < rep.MinGap {
			rep.MinGap = gap
		}
		if gap < interval-tol {
			rep.Violations = append(rep.Violations, fmt.Sprintf("site %s: two arrivals %v apart, interval %v", ms.hosts[i], gap, interval))
		}
		if allowed := 1 + int(last.Sub(first)/(interval-tol)); count > allowed {
			rep.Violations = append(rep.Violations, fmt.Sprintf("site %s: %d arrivals in %v, at most %d allowed", ms.hosts[i], count, last.Sub(first), allowed))
		}
	}
	return rep
}

// siteOf returns the site key of a seed "http://host:port/p/0".
func siteOf(seed string) string {
	return strings.TrimSuffix(strings.TrimPrefix(seed, "http://"), "/p/0")
}

// perDayFor is the daily traffic estimate whose budget, at the default
// share, is one request every interval.
func perDayFor(interval time.Duration) float64 {
	return float64(24*time.Hour/interval) / limiter.DefaultShare
}

// manyCrawl is one crawl of a many-site benchmark or test.
type manyCrawl struct {
	sites    int           // sites served and seeded
	frontier int           // sites seeded in all (>= sites); the rest are never reached
	pages    int           // pages per site
	interval time.Duration // each site's budget: one request per interval
	workers  int
	maxPages int           // 0: no limit
	maxWait  time.Duration // Config.MaxWait; 0 for the default
	// tolerance is how much shorter than interval a gap between two
	// arrivals may be (the server's clock reads when its handler runs,
	// which scheduling delays by tens of milliseconds on a loaded
	// machine, more under -race). Default interval/10.
	tolerance time.Duration
	auditLog  bool
	// redisWorkers, if not 0, crawls with that many crawlers on one
	// job in a real redis-server, each with its own client, Redis
	// limiter, job frontier, shared robots store and operation log, as
	// that many machines do; workers is then each one's number of
	// workers.
	redisWorkers int
	// ownRobots: each of the redisWorkers fetches robots.txt itself,
	// without the job's shared store.
	ownRobots bool
}

type manyResult struct {
	sum      Summary
	elapsed  time.Duration
	cpu      time.Duration
	rssStart int64 // bytes, after the server started and before the crawler was built
	rssEnd   int64 // bytes, at the end of the crawl
	// heapStart and heapEnd are the live heap (after a GC) before the
	// crawler was built and after its crawl, with the crawler still held.
	heapStart, heapEnd uint64
	baseG              int // goroutines before the crawler was built
	peakG              int
	endG               int   // goroutines at the end of the crawl
	endConns           int64 // connections open at the end, server side
	// memStart and memEnd are the runtime's memory classes before the
	// crawler was built and at the end of its crawl (see memClasses).
	memStart, memEnd map[string]uint64
	budget           budgetReport
	peakConns        int64    // most connections open at once, server side
	parallel         int64    // most requests at once to any one site
	logs             []string // the operation logs' directories (redisWorkers)
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memClassNames are the runtime's memory classes that make up what it
// maps from the OS, by short name, and the heap goal.
var memClassNames = map[string]string{
	"/memory/classes/heap/objects:bytes":          "heap-objects",
	"/memory/classes/heap/free:bytes":             "heap-free",
	"/memory/classes/heap/released:bytes":         "heap-released",
	"/memory/classes/heap/stacks:bytes":           "stacks",
	"/memory/classes/heap/unused:bytes":           "heap-unused",
	"/memory/classes/metadata/other:bytes":        "metadata",
	"/memory/classes/metadata/mcache/inuse:bytes": "mcache",
	"/memory/classes/metadata/mspan/inuse:bytes":  "mspan",
	"/memory/classes/os-stacks:bytes":             "os-stacks",
	"/memory/classes/other:bytes":                 "other",
	"/memory/classes/profiling/buckets:bytes":     "profiling",
	"/gc/heap/goal:bytes":                         "heap-goal",
	"/gc/heap/live:bytes":                         "heap-live",
	"/memory/classes/metadata/mcache/free:bytes":  "mcache-free",
	"/memory/classes/metadata/mspan/free:bytes":   "mspan-free",
}

// memClasses reads the runtime's memory classes (see memClassNames).
func memClasses() map[string]uint64 {
	samples := make([]metrics.Sample, 0, len(memClassNames))
	for name := range memClassNames {
		samples = append(samples, metrics.Sample{Name: name})
	}
	metrics.Read(samples)
	out := make(map[string]uint64, len(samples))
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			out[memClassNames[s.Name]] = s.Value.Uint64()
		}
	}
	return out
}

// logMemory logs, per site, how the memory the crawl added is made up:
// the runtime's memory classes, goroutines and open connections. (A
// benchmark's log keeps ten lines: the classes go three to a line.)
func logMemory(tb testing.TB, res manyResult, sites int) {
	tb.Helper()
	kib := func(end, start uint64) float64 { return (float64(end) - float64(start)) / float64(sites) / 1024 }
	var b strings.Builder
	fmt.Fprintf(&b, "memory the crawl added, KiB per site (%d sites): rss %.2f", sites, kib(uint64(res.rssEnd), uint64(res.rssStart)))
	names := make([]string, 0, len(res.memEnd))
	for k := range res.memEnd {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, k := range names {
		sep := ", "
		if i%3 == 0 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "%s%s %.2f (%.1f MiB at end)", sep, k, kib(res.memEnd[k], res.memStart[k]), float64(res.memEnd[k])/(1<<20))
	}
	fmt.Fprintf(&b, "\ngoroutines at end %d (%+d); connections open at end %d", res.endG, res.endG-res.baseG, res.endConns)
	tb.Log(b.String())
}

// vmRSS reads the process's resident set size.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// manyProc is a manyServer in a child process: this test binary, running
// TestManySitesServer. It is driven through the child's standard input
// and output, one command and one answer a line.
type manyProc struct {
	mu    sync.Mutex
	in    io.WriteCloser
	out   *bufio.Scanner
	hosts []string
}

// manyProcPrefix marks the child's answers among what else the test binary
// prints.
const manyProcPrefix = "manysites: "

// startManyProc starts the child process serving n sites of pages pages
// each, and stops it when tb ends.
func startManyProc(tb testing.TB, n, pages int) *manyProc {
	tb.Helper()
	raiseFileLimit(tb) // the crawler's end of the connections
	cmd := exec.Command(os.Args[0], "-test.run=^TestManySitesServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("MANYSITES_SERVE=%d,%d", n, pages))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close() // the child returns at the end of its input
		cmd.Wait()
	})
	mp := &manyProc{in: in, out: bufio.NewScanner(out)}
	var port string
	if err := mp.answer(&port); err != nil {
		tb.Fatalf("many-site server process: %v", err)
	}
	for i := range n {
		mp.hosts = append(mp.hosts, net.JoinHostPort(manyAddr(i), port))
	}
	return mp
}

// answer reads the child's next answer into v, from JSON.
func (mp *manyProc) answer(v any) error {
	for mp.out.Scan() {
		if line, ok := strings.CutPrefix(mp.out.Text(), manyProcPrefix); ok {
			return json.Unmarshal([]byte(line), v)
		}
	}
	if err := mp.out.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// ask sends the child a command and reads its answer into v. The
// benchmark cannot go on without it: a failure panics.
func (mp *manyProc) ask(cmd string, v any) {
	mp.mu.Lock()
	defer mp.mu.Unlock()
	if _, err := io.WriteString(mp.in, cmd+"\n"); err != nil {
		panic(fmt.Sprintf("many-site server process: %v", err))
	}
	if err := mp.answer(v); err != nil {
		panic(fmt.Sprintf("many-site server process: %s: %v", cmd, err))
	}
}

func (mp *manyProc) siteHosts() []string { return mp.hosts }

func (mp *manyProc) stats() (conns, peakConns, parallel int64) {
	var st [3]int64
	mp.ask("stats", &st)
	return st[0], st[1], st[2]
}

func (mp *manyProc) check(interval, tol time.Duration) budgetReport {
	var rep budgetReport
	mp.ask(fmt.Sprintf("check %d %d", interval, tol), &rep)
	return rep
}

// TestManySitesServer is the child process of startManyProc; it does
// nothing in a test run. It serves the sites MANYSITES_SERVE asks for
// ("sites,pages"), writes the port, then answers the commands on its
// standard input ("stats", "check interval tol") until it ends.
func TestManySitesServer(t *testing.T) {
	spec := os.Getenv("MANYSITES_SERVE")
	if spec == "" {
		t.Skip("the child process of a many-site benchmark (MANYSITES_SERVER=process)")
	}
	var n, pages int
	if _, err := fmt.Sscanf(spec, "%d,%d", &n, &pages); err != nil {
		t.Fatalf("MANYSITES_SERVE=%q: %v", spec, err)
	}
	ms := newManyServer(t, n, pages)
	say := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%s\n", manyProcPrefix, b)
	}
	_, port, _ := net.SplitHostPort(ms.hosts[0])
	say(port)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 1 && f[0] == "stats":
			c, p, par := ms.stats()
			say([3]int64{c, p, par})
		case len(f) == 3 && f[0] == "check":
			interval, _ := strconv.ParseInt(f[1], 10, 64)
			tol, _ := strconv.ParseInt(f[2], 10, 64)
			say(ms.check(time.Duration(interval), time.Duration(tol)))
		default:
			t.Fatalf("unknown command %q", in.Text())
		}
	}
}

// peakGoroutines samples the number of goroutines every 100 ms until done
// is closed, and keeps the highest.
func peakGoroutines(done <-chan struct{}) *atomic.Int64 {
	var peak atomic.Int64
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if g := int64(runtime.NumGoroutine()); g > peak.Load() {
				peak.Store(g)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

func runMany(tb testing.TB, mc manyCrawl) manyResult {
	tb.Helper()
	if mc.frontier < mc.sites {
		mc.frontier = mc.sites
	}
	var ms manySites
	if os.Getenv("MANYSITES_SERVER") == "process" {
		ms = startManyProc(tb, mc.sites, mc.pages)
	} else {
		ms = newManyServer(tb, mc.sites, mc.pages)
	}
	hosts := ms.siteHosts()
	perDay := perDayFor(mc.interval)
	var es []limiter.Estimate
	seeds := make([]string, mc.frontier)
	for i := range mc.frontier {
		var h string
		if i < mc.sites {
			h = hosts[i]
		} else {
			// Never reached: the crawl is bounded before them. Port 9
			// (discard) on an address nothing listens on.
			h = fmt.Sprintf("127.%d.%d.%d:9", 20+i/62500, (i/250)%250, i%250+1)
		}
		es = append(es, limiter.Estimate{Site: h, PerDay: perDay, Source: "many-site benchmark", At: time.Now().UTC(), Kind: limiter.KindUser})
		seeds[i] = "http://" + h + "/p/0"
	}
	est, err := limiter.NewEstimates(es...)
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("MANYSITES_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var sink audit.Sink = audit.Discard{}
	var alog *audit.Log
	if mc.auditLog {
		dir := tb.TempDir()
		alog, err = audit.Open(filepath.Join(dir, "audit"), audit.Options{KeyFile: filepath.Join(dir, "key"), Logger: logger})
		if err != nil {
			tb.Fatal(err)
		}
		sink = alog
	}
	if mc.redisWorkers > 0 {
		return runManyRedis(tb, mc, ms, est, seeds, logger)
	}
	res := manyResult{heapStart: liveHeap(), baseG: runtime.NumGoroutine()}
	res.rssStart, res.memStart = vmRSS(), memClasses()
	lim, err := limiter.NewLocal(limiter.Config{Estimates: est, Sink: sink})
	if err != nil {
		tb.Fatal(err)
	}
	front := frontier.NewMemory(frontier.Options{PerSite: 1, MaxPages: mc.maxPages})
	cr := seeded(tb, Config{
		Frontier: front,
		Contact:  "mailto:bench@example.org",
		Parallel: 1,
		Workers:  mc.workers,
		MaxPages: mc.maxPages,
		MaxWait:  mc.maxWait,
		Limiter:  lim,
		Sink:     sink,
		Horizon:  -1,
		Logger:   logger,
	}, seeds...)
	for i := mc.sites; i < mc.frontier; i++ {
		// The sites beyond those served wait, as sites whose next slot
		// is hours away do in a crawl of many slowly paced sites.
		if err := front.PaceSite(context.Background(), siteOf(seeds[i]), time.Now().Add(time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan struct{})
	peak := peakGoroutines(done)
	cpu0, t0 := cpuTime(tb), time.Now()
	res.sum, err = cr.Run(ctx)
	res.elapsed, res.cpu = time.Since(t0), cpuTime(tb)-cpu0
	close(done)
	if err != nil {
		tb.Fatal(err)
	}
	res.rssEnd, res.memEnd = vmRSS(), memClasses()
	res.endG = runtime.NumGoroutine()
	res.endConns, res.peakConns, res.parallel = ms.stats()
	res.heapEnd = liveHeap()
	if p := os.Getenv("MANYSITES_HEAPPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			tb.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	runtime.KeepAlive(cr)
	res.peakG = int(peak.Load())
	if alog != nil {
		if err := alog.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	if mc.tolerance == 0 {
		mc.tolerance = mc.interval / 10
	}
	res.budget = ms.check(mc.interval, mc.tolerance)
	return res
}

// runManyRedis is runMany for mc.redisWorkers crawlers on one Redis job.
// The frontier beyond the served sites is not supported: the job's
// frontier has no PaceSite.
func runManyRedis(tb testing.TB, mc manyCrawl, ms manySites, est *limiter.Estimates, seeds []string, logger *slog.Logger) manyResult {
	tb.Helper()
	if mc.frontier > mc.sites {
		tb.Fatal("runManyRedis: a frontier beyond the served sites is not supported")
	}
	addr := redistest.Addr(tb)
	name := redistest.Namespace(tb)
	res := manyResult{heapStart: liveHeap(), baseG: runtime.NumGoroutine()}
	res.rssStart, res.memStart = vmRSS(), memClasses()
	crs := make([]*Crawler, mc.redisWorkers)
	var logs []*audit.Log
	for w := range crs {
		client := redistest.Client(tb, addr)
		var sink audit.Sink = audit.Discard{}
		if mc.auditLog {
			dir := tb.TempDir()
			alog, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{KeyFile: filepath.Join(dir, "key"), Logger: logger})
			if err != nil {
				tb.Fatal(err)
			}
			logs = append(logs, alog)
			res.logs = append(res.logs, filepath.Join(dir, "audit"))
			sink = alog
		}
		lim, err := limiter.NewRedis(client, name, limiter.Config{Estimates: est, Sink: sink})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { lim.Close() })
		front, err := job.NewFrontier(client, name, job.FrontierOptions{PerSite: 1, MaxPages: mc.maxPages, Logger: logger})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { front.Close() })
		var shared robots.Shared
		if !mc.ownRobots {
			if shared, err = job.NewRobotsStore(client, name, 0); err != nil {
				tb.Fatal(err)
			}
		}
		// Every worker is given the seeds, as every worker of a job is
		// started with the same command line: the job's frontier queues
		// each once, and a worker's scope and its leave to contact
		// loopback addresses come from its seeds.
		crs[w] = seeded(tb, Config{
			Frontier:     front,
			RobotsShared: shared,
			Contact:      "mailto:bench@example.org",
			Parallel:     1,
			Workers:      mc.workers,
			MaxPages:     mc.maxPages,
			MaxWait:      mc.maxWait,
			Limiter:      lim,
			Sink:         sink,
			Horizon:      -1,
			Logger:       logger,
		}, seeds...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan struct{})
	peak := peakGoroutines(done)
	cpu0, t0 := cpuTime(tb), time.Now()
	sums := make([]Summary, len(crs))
	errs := make([]error, len(crs))
	var wg sync.WaitGroup
	for w, cr := range crs {
		wg.Go(func() { sums[w], errs[w] = cr.Run(ctx) })
	}
	wg.Wait()
	res.elapsed, res.cpu = time.Since(t0), cpuTime(tb)-cpu0
	close(done)
	for w, err := range errs {
		if err != nil {
			tb.Fatalf("worker %d: %v", w, err)
		}
	}
	res.sum = sums[0]
	for _, s := range sums[1:] {
		res.sum.Pages += s.Pages
		res.sum.OK += s.OK
		res.sum.Errors += s.Errors
		res.sum.NotStored += s.NotStored
	}
	res.rssEnd, res.memEnd = vmRSS(), memClasses()
	res.endG = runtime.NumGoroutine()
	res.endConns, res.peakConns, res.parallel = ms.stats()
	res.heapEnd = liveHeap()
	runtime.KeepAlive(crs)
	res.peakG = int(peak.Load())
	for _, l := range logs {
		if err := l.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	if mc.tolerance == 0 {
		mc.tolerance = mc.interval / 10
	}
	res.budget = ms.check(mc.interval, mc.tolerance)
	return res
}

// TestManySites crawls 200 loopback sites, a few pages each, and checks
// that every site was crawled whole and that no site's arrivals came
// faster than its budget allows. It makes no assertion on speed.
func TestManySites(t *testing.T) {
	if testing.Short() {
		t.Skip("many-site crawl in -short mode")
	}
	const sites, pages = 200, 3
	res := runMany(t, manyCrawl{sites: sites, pages: pages, interval: time.Second, tolerance: 300 * time.Millisecond,
		workers: 16, maxWait: 100 * time.Millisecond, auditLog: true})
	if res.sum.Reason != "done" {
		t.Errorf("crawl ended with %q", res.sum.Reason)
	}
	want := sites * (pages + 1) // robots.txt and every page
	if res.budget.Requests != want || res.budget.SitesSeen != sites {
		t.Errorf("server saw %d requests to %d sites, want %d to %d", res.budget.Requests, res.budget.SitesSeen, want, sites)
	}
	if res.sum.Pages+res.sum.NotStored != sites*pages && res.sum.OK != want {
		t.Errorf("summary: %d pages, %d ok answers; want %d pages, %d ok", res.sum.Pages, res.sum.OK, sites*pages, want)
	}
	for _, v := range res.budget.Violations {
		t.Error(v)
	}
	if p := res.parallel; p > 1 {
		t.Errorf("a site had %d requests at once, Parallel is 1", p)
	}
}

// TestManySitesRedis is TestManySites for three crawlers on one Redis
// job: together they crawl every page once, within each site's budget.
// With ownRobots each worker fetches robots.txt itself, and its request
// often waits for a slot the others took.
func TestManySitesRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("many-site crawl in -short mode")
	}
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprintf("ownRobots=%v", own), func(t *testing.T) {
			const sites, pages, workers = 100, 3, 3
			res := runMany(t, manyCrawl{sites: sites, pages: pages, interval: time.Second, tolerance: 300 * time.Millisecond,
				workers: 8, maxWait: 100 * time.Millisecond, auditLog: true, redisWorkers: workers, ownRobots: own})
			robotsMax := 1
			if own {
				robotsMax = workers
			}
			if got := res.budget.Requests - res.budget.Robots; got != sites*pages || res.budget.SitesSeen != sites {
				t.Errorf("server saw %d page requests to %d sites, want %d to %d", got, res.budget.SitesSeen, sites*pages, sites)
			}
			if got := res.budget.Robots; got < sites || got > sites*robotsMax {
				t.Errorf("server saw %d robots.txt requests, want %d to %d", got, sites, sites*robotsMax)
			}
			for _, v := range res.budget.Violations {
				t.Error(v)
			}
			if p := res.parallel; p > 1 {
				t.Errorf("a site had %d requests at once, Parallel is 1", p)
			}
			// A robots.txt request that waits for the site's next slot is
			// not an unreachable robots.txt, which would stop the site for
			// a minute.
			unreachable := 0
			for _, dir := range res.logs {
				if _, err := audit.Verify(context.Background(), dir, audit.VerifyOptions{Visit: func(e *audit.Entry) error {
					if d := e.Event.Decision; d != nil && strings.Contains(d.Reason, "unreachable") {
						if unreachable++; unreachable <= 3 {
							t.Errorf("%s %s: %s", d.URL, d.Verdict, d.Reason)
						}
					}
					return nil
				}}); err != nil {
					t.Fatalf("verify %s: %v", dir, err)
				}
			}
			if unreachable > 0 {
				t.Errorf("%d decisions found robots.txt unreachable; the site answered every request", unreachable)
			}
		})
	}
}

// BenchmarkManySites crawls many loopback sites at once, each with a small
// budget (one request every 2 s) and a few pages (robots.txt, /p/0 and
// three pages it links to), with the operation log, and reports
// throughput, cost and whether every site stayed within its budget
// (budget_violations must be 0). The frontier=100000 variant seeds 100,000
// sites, of which the first 10,000 are served and crawled whole; the other
// 90,000 wait in the frontier (paced an hour ahead, as slowly paced sites
// wait in a real crawl) and the crawl stops after the 40,000 pages of the
// first: only the frontier holds them all.
//
// MaxWait is 100 ms: a worker hands a site's item back to the frontier
// rather than sleep up to a minute for the site's next slot, which with
// 64 workers and a 2 s interval would bound the crawl to 32 requests a
// second whatever the number of sites. MANYSITES_MAXWAIT and
// MANYSITES_WORKERS override it and the number of workers;
// MANYSITES_HEAPPROFILE names a file for a heap profile taken at the end
// of the crawl, the crawler still live; MANYSITES_MEMORY=1 logs how the
// memory the crawl added is made up (the runtime's memory classes,
// goroutines and connections left open). MANYSITES_SERVER=process serves
// the sites from a child process, so that the figures are the crawler's
// alone: in this process, the server's 10,000 listeners, their goroutines
// and its connections' buffers raise the heap the collector lets grow
// (GOGC counts goroutine stacks), and its CPU counts in cpu-µs/req.
//
//	go test -run '^$' -bench ManySites -benchtime 1x ./crawler/
func BenchmarkManySites(b *testing.B) {
	for _, bc := range []struct {
		name string
		mc   manyCrawl
	}{
		{"sites=1000", manyCrawl{sites: 1000, pages: 4, interval: 2 * time.Second, workers: 64, maxWait: 100 * time.Millisecond}},
		{"sites=10000", manyCrawl{sites: 10000, pages: 4, interval: 2 * time.Second, workers: 64, maxWait: 100 * time.Millisecond}},
		{"frontier=100000", manyCrawl{sites: 10000, frontier: 100000, pages: 4, interval: 2 * time.Second, workers: 64, maxWait: 100 * time.Millisecond, maxPages: 40000}},
		// Three crawlers on one Redis job, 64 workers each.
		{"sites=10000/redis=3", manyCrawl{sites: 10000, pages: 4, interval: 2 * time.Second, workers: 64, maxWait: 100 * time.Millisecond, redisWorkers: 3}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.mc.auditLog = true
			if v := os.Getenv("MANYSITES_MAXWAIT"); v != "" {
				bc.mc.maxWait, _ = time.ParseDuration(v)
			}
			if v := os.Getenv("MANYSITES_WORKERS"); v != "" {
				bc.mc.workers, _ = strconv.Atoi(v)
			}
			for range b.N {
				res := runMany(b, bc.mc)
				n := float64(max(bc.mc.sites, bc.mc.frontier))
				if os.Getenv("MANYSITES_MEMORY") != "" {
					logMemory(b, res, int(n))
				}
				reqs := float64(res.budget.Requests)
				b.ReportMetric(reqs/res.elapsed.Seconds(), "req/s")
				b.ReportMetric(res.cpu.Seconds()/reqs*1e6, "cpu-µs/req")
				b.ReportMetric(float64(res.rssEnd)/(1<<20), "rss-MiB")
				b.ReportMetric(float64(res.rssEnd-res.rssStart)/n/1024, "rss-KiB/site")
				b.ReportMetric(float64(int64(res.heapEnd)-int64(res.heapStart))/n/1024, "heap-KiB/site")
				b.ReportMetric(float64(res.peakG-res.baseG), "goroutines")
				b.ReportMetric(float64(res.peakConns), "peak-conns")
				b.ReportMetric(float64(res.budget.SitesSeen), "sites-reached")
				b.ReportMetric(float64(len(res.budget.Violations)), "budget_violations")
				b.ReportMetric(res.budget.MinGap.Seconds(), "min-gap-s")
				b.ReportMetric(float64(res.sum.Errors), "errors")
				b.ReportMetric(res.elapsed.Seconds(), "crawl-s")
				b.ReportMetric(0, "ns/op")
				for i, v := range res.budget.Violations {
					if i == 5 {
						b.Logf("... %d more", len(res.budget.Violations)-i)
						break
					}
					b.Log(v)
				}
			}
		})
	}
}
