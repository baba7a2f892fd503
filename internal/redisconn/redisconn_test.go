package redisconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goodbot/goodbot/internal/redistest"
)

func TestParseTopology(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Topology
	}{
		{"redis://127.0.0.1:6379/0", Single},
		{"rediss://u:p@127.0.0.1:6379", Single},
		{"unix:///run/redis.sock?db=2", Single},
		{"redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", Cluster},
		{"redis+cluster://127.0.0.1:7000", Cluster},
		{"rediss+cluster://127.0.0.1:7000?dial_timeout=3", Cluster},
		{"redis://127.0.0.1:26379?master_name=m", Sentinel},
		{"redis+sentinel://127.0.0.1:26379?master_name=m&addr=127.0.0.1:26380", Sentinel},
	} {
		c, got, err := Parse(tc.url)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.url, err)
			continue
		}
		c.Close()
		if got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "empty"},
		{"localhost:6379", "scheme"},
		{"127.0.0.1:6379", "not a URL"},
		{"http://127.0.0.1:6379", `scheme "http"`},
		{"redis://", "no host"},
		{"redis+sentinel://127.0.0.1:26379", "master_name"},
		{"redis://127.0.0.1:26379?master_name=", "master_name is empty"},
		{"redis://127.0.0.1:6379?colour=blue", "colour"},
		{"redis://127.0.0.1:6379/x", "database number"},
		{"unix:///s?addr=x", "one server"},
		{"redis://u:s3cret@127.0.0.1:6379?colour=blue", "xxxxx"},
	} {
		c, _, err := Parse(tc.url)
		if err == nil {
			c.Close()
			t.Errorf("Parse(%q): no error", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q): the error shows the password: %v", tc.url, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://u:s3cret@h:1/0":                             "redis://u:xxxxx@h:1/0",
		"redis://h:1?master_name=m&sentinel_password=s3cret": "redis://h:1?master_name=m&sentinel_password=xxxxx",
		"redis://h:1":                          "redis://h:1",
		"redis://u:s3cret@h:1\x7f":             "(unparsable URL)",
		"redis+cluster://:s3cret@h:1?addr=h:2": "redis+cluster://:xxxxx@h:1?addr=h:2",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func roundTrip(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	ctx := ctxT(t)
	k := "{" + redistest.Namespace(t) + "}:k"
	if err := c.Set(ctx, k, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, k).Result(); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

func TestOpenSingle(t *testing.T) {
	c, topo, err := Open(ctxT(t), "redis://"+redistest.Addr(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if topo != Single {
		t.Errorf("topology %v", topo)
	}
	roundTrip(t, c)
}

func TestOpenCluster(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	for _, u := range []string{
		redistest.ClusterURL(nodes),
		"redis+cluster://" + nodes[1].Addr, // one seed finds the rest
	} {
		c, topo, err := Open(ctxT(t), u, 0)
		if err != nil {
			t.Fatal(err)
		}
		if topo != Cluster {
			t.Errorf("%s: topology %v", u, topo)
		}
		roundTrip(t, c)
		c.Close()
	}
	// A node that is not in a cluster is refused as one.
	single := redistest.Start(t)
	if c, _, err := Open(ctxT(t), "redis+cluster://"+single.Addr, 5*time.Second); err == nil {
		c.Close()
		t.Error("a plain server was taken for a cluster")
	}
}

func TestOpenSentinel(t *testing.T) {
	f := redistest.StartFailover(t)
	c, topo, err := Open(ctxT(t), f.URL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if topo != Sentinel {
		t.Errorf("topology %v", topo)
	}
	roundTrip(t, c)
	if c, _, err := Open(ctxT(t), "redis+sentinel://"+f.Sentinel.Addr+"?master_name=nosuch", 5*time.Second); err == nil {
		c.Close()
		t.Error("an unknown master name was accepted")
	}
}

func TestOpenDown(t *testing.T) {
	s := redistest.Start(t)
	s.Kill()
	_, _, err := Open(ctxT(t), "redis://u:s3cret@"+s.Addr, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "did not answer") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a dead server: %v", err)
	}
}
