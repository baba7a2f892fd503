package redistest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAddrAndNamespace(t *testing.T) {
	c := Client(t, Addr(t))
	ctx := context.Background()
	a, b := Namespace(t), Namespace(t)
	if a == b || !strings.HasPrefix(a, "TestAddrAndNamespace-") {
		t.Errorf("Namespace = %q, %q; want distinct, prefixed by the test name", a, b)
	}
	if err := c.Set(ctx, a+":k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, a+":k").Result(); err != nil || v != "v" {
		t.Errorf("GET = %q, %v", v, err)
	}
	if n, err := c.Exists(ctx, b+":k").Result(); err != nil || n != 0 {
		t.Errorf("other namespace sees the key: %d, %v", n, err)
	}
}

func TestPauseKillRestart(t *testing.T) {
	s := Start(t)
	c := Client(t, s.Addr)
	ctx := context.Background()

	s.Pause()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := c.Ping(short).Err()
	cancel()
	if err == nil {
		t.Fatal("a paused server answered PING")
	}
	s.Resume()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("after Resume: %v", err)
	}

	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	short, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	err = c.Ping(short).Err()
	cancel()
	if err == nil {
		t.Fatal("a killed server answered PING")
	}
	s.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("restarted server kept data: %d, %v", n, err)
	}
}

func TestPersistentRestartKeepsData(t *testing.T) {
	s := StartPersistent(t)
	c := Client(t, s.Addr)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	s.Restart()
	c2 := Client(t, s.Addr)
	if v, err := c2.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after kill and restart: %q, %v; want the acknowledged write", v, err)
	}
}
