// Package redistest gives tests a real redis-server.
//
// Addr returns the address of a server tests may share: the one named by
// GOODBOT_REDIS_ADDR (./test.sh starts one and exports it), or else one
// started for the test. Tests that share a server must keep their keys
// apart: Namespace returns a prefix unique to the test. Nothing here ever
// flushes a database.
//
// Start always starts a private server, which a test may pause, kill and
// restart to see how its code behaves in an outage.
//
// When no redis-server can be had, tests are skipped with a message saying
// how to get one, except when the CI environment variable is set: then they
// fail.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr names the environment variable holding the address of a shared
// redis-server, e.g. "127.0.0.1:6379".
const EnvAddr = "GOODBOT_REDIS_ADDR"

// Server is a redis-server started for one test. It is stopped when the
// test ends.
type Server struct {
	Addr string // 127.0.0.1:port

	tb   testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited

	persistent bool     // append-only file, fsync always
	extra      []string // further redis-server arguments (cluster mode, replicaof, sentinel)
	maxPort    int      // when not zero, the highest port to take (a cluster bus listens on port+10000)
	sentinel   string   // when not empty, run as a Sentinel with this configuration
}

// unavailable skips tb, or fails it when the CI variable is set.
func unavailable(tb testing.TB, why string) {
	tb.Helper()
	msg := "redistest: no redis-server: " + why + "; install redis-server or set " + EnvAddr
	if os.Getenv("CI") != "" {
		tb.Fatal(msg + " (CI is set, so this fails instead of skipping)")
	}
	tb.Skip(msg)
}

// Addr returns the address of a redis-server the test may use: the shared
// one named by GOODBOT_REDIS_ADDR, or a private one started for the test.
func Addr(tb testing.TB) string {
	tb.Helper()
	if a := os.Getenv(EnvAddr); a != "" {
		return a
	}
	return Start(tb).Addr
}

// Client returns a client of the server at addr, closed when the test ends.
// It checks that the server answers.
func Client(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(tb, fmt.Sprintf("%s does not answer PING: %v", addr, err))
	}
	return c
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Namespace returns a name unique to this test run, made from the test's
// name and a random suffix, for use as a key prefix or job name on a
// shared server. It contains only letters, digits, '_', '.' and '-'.
func Namespace(tb testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	name := unsafeChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return name + "-" + hex.EncodeToString(b[:])
}

// Start starts a private redis-server on a free 127.0.0.1 port, in a
// temporary directory, without persistence. It is stopped when the test
// ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, false)
}

// StartPersistent is Start with an append-only file synced on every write,
// as a production Redis keeps its data: after Kill and Restart the server
// has everything it acknowledged.
func StartPersistent(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, true)
}

func start(tb testing.TB, persistent bool) *Server {
	tb.Helper()
	return startServer(tb, &Server{persistent: persistent})
}

// startServer starts s, which has its options set, on a free port.
func startServer(tb testing.TB, s *Server) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(tb, "redis-server is not on PATH")
	}
	s.tb, s.bin, s.dir = tb, bin, tb.TempDir()
	var last error
	for range 20 { // a free port may be taken before the server binds it
		s.port, err = freePort()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		if s.maxPort > 0 && s.port > s.maxPort {
			continue
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if last = s.start(); last == nil {
			tb.Cleanup(s.stop)
			return s
		}
	}
	tb.Fatalf("redistest: starting redis-server: %v", last)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() error {
	aof := []string{"--appendonly", "no"}
	if s.persistent {
		aof = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--daemonize", "no",
		"--enable-debug-command", "local",
		"--loglevel", "warning",
	}, aof...)
	args = append(args, s.extra...)
	if s.sentinel != "" {
		// A Sentinel rewrites its configuration file, which comes first.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(s.sentinel), 0o644); err != nil {
			return err
		}
		args = append([]string{conf, "--sentinel"}, args...)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	var err error
	for range 100 { // up to about 5 s
		select {
		case <-s.done:
			return fmt.Errorf("redis-server on port %d exited at start", s.port)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("redis-server on port %d does not answer: %w", s.port, err)
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot die of SIGKILL's cleanup otherwise
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *Server) stop() { s.kill() }

// Pause stops the server process (SIGSTOP): it keeps its connections but
// answers nothing until Resume.
func (s *Server) Pause() {
	s.tb.Helper()
	if s.cmd == nil {
		s.tb.Fatal("redistest: Pause: server is not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.tb.Fatalf("redistest: Pause: %v", err)
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.tb.Helper()
	if s.cmd == nil {
		s.tb.Fatal("redistest: Resume: server is not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.tb.Fatalf("redistest: Resume: %v", err)
	}
}

// Kill kills the server (SIGKILL). Its data is lost unless it was started
// with StartPersistent.
func (s *Server) Kill() {
	s.tb.Helper()
	if s.cmd == nil {
		s.tb.Fatal("redistest: Kill: server is not running")
	}
	s.kill()
}

// Restart starts the server again on the same address after Kill: with an
// empty database, or with its data for a StartPersistent server.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		s.tb.Fatal("redistest: Restart: server is still running")
	}
	if err := s.start(); err != nil {
		s.tb.Fatalf("redistest: Restart: %v", err)
	}
}
