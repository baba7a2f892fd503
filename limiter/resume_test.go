package limiter

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Requests sent by earlier runs count: the next grant waits one interval
// after the last of them, and the day's count includes today's.
func TestLocalResume(t *testing.T) {
	est, err := NewEstimates()
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(Config{Estimates: est}) // default estimate: 2 a day, one every 12 h
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	l.Resume("a.example", []time.Time{now.Add(-time.Hour)}, time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = l.Wait(ctx, "a.example")
	var later *LaterError
	if !errors.As(err, &later) {
		t.Fatalf("Wait after a resumed request an hour ago: %v, want a LaterError", err)
	}
	if want := now.Add(11 * time.Hour); later.At.Before(want.Add(-time.Minute)) || later.At.After(want.Add(time.Minute)) {
		t.Errorf("next slot %v, want about %v", later.At, want)
	}

	// Two requests today spend a budget of two.
	clock := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	l2, err := NewLocal(Config{Estimates: est, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	day := clock.Truncate(24 * time.Hour)
	// Sent at 01:00 and 02:00 (under an earlier, larger budget): the
	// interval has passed by 15:00, the day's two requests have not.
	l2.Resume("b.example", []time.Time{day.Add(time.Hour), day.Add(2 * time.Hour), day.Add(-20 * time.Hour)}, time.Time{})
	ctx3, cancel3 := context.WithTimeout(context.Background(), time.Second)
	defer cancel3()
	var ex *ExhaustedError
	if _, err := l2.Wait(ctx3, "b.example"); !errors.As(err, &ex) {
		t.Fatalf("Wait with the day's budget spent by earlier runs: %v, want an ExhaustedError", err)
	}

	// A hold the site asked for in an earlier run still holds.
	l3, err := NewLocal(Config{Estimates: est})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(2 * time.Hour)
	l3.Resume("c.example", nil, until)
	ctx4, cancel4 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel4()
	if _, err := l3.Wait(ctx4, "c.example"); !errors.As(err, &later) || later.At.Before(until.Add(-time.Second)) {
		t.Fatalf("Wait during a resumed hold: %v, want a LaterError at %v or after", err, until)
	}
}

// What the limiter learnt in one run (a slow-down after slow answers, a
// back-off after a 503, the day's count) carries over to the next through
// SaveState and LoadState.
func TestLocalSaveLoadState(t *testing.T) {
	ctx := context.Background()
	est, err := NewEstimates(Estimate{Site: "a.example", PerDay: 8_640_000, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// The clock is real time plus what the test advances: Wait compares
	// slots with ctx's deadline, which is real time.
	clock := time.Now()
	now := func() time.Time { return clock }
	l, err := NewLocal(Config{Estimates: est, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := l.Wait(ctx, "a.example"); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
	}
	if err := l.Observe(ctx, "a.example", Observation{Status: 503, RetryAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	before, err := l.Status(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.SaveState()
	if err != nil {
		t.Fatal(err)
	}

	l2, err := NewLocal(Config{Estimates: est, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.LoadState(b); err != nil {
		t.Fatal(err)
	}
	after, err := l2.Status(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	if after.SentToday != before.SentToday || !after.HoldUntil.Equal(before.HoldUntil) || after.Interval < before.Interval {
		t.Fatalf("after LoadState: sent %d hold %v interval %v; before: sent %d hold %v interval %v",
			after.SentToday, after.HoldUntil, after.Interval, before.SentToday, before.HoldUntil, before.Interval)
	}
	if before.HoldUntil.IsZero() || before.SentToday != 3 {
		t.Fatalf("test setup: before = %+v, want 3 sent and a hold", before)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	var later *LaterError
	if _, err := l2.Wait(tctx, "a.example"); !errors.As(err, &later) {
		t.Fatalf("Wait during a restored hold: %v, want a LaterError", err)
	}

	for _, bad := range []string{"", "{", `{"version":2,"sites":{}}`} {
		if err := l2.LoadState([]byte(bad)); err == nil {
			t.Errorf("LoadState(%q) = nil, want an error", bad)
		}
	}
}

// A reservation into the next day that is given back (the run ended while
// the worker waited for it) does not make the limiter forget today's
// count: the next run still knows what the site was sent today.
func TestLocalGiveBackNextDayKeepsToday(t *testing.T) {
	e, err := ParseTraffic("s.example=30") // 3 a day at share 0.1: one every third of a day
	if err != nil {
		t.Fatal(err)
	}
	est, _ := NewEstimates(e)
	const day = time.Hour
	clock := time.Now().Truncate(day).Add(day - 10*time.Minute) // the clock stands still
	now := func() time.Time { return clock }
	l, err := NewLocal(Config{Estimates: est, DayLength: day, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Wait(ctx, "s.example"); err != nil {
		t.Fatal(err)
	}
	// The next slot is 20 minutes on, in the next day: a worker waits for
	// it, and gives up when its run ends.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(wctx, "s.example"); err == nil {
		t.Fatal("the waiting worker was granted its slot")
	}
	b, err := l.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := NewLocal(Config{Estimates: est, DayLength: day, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.LoadState(b); err != nil {
		t.Fatal(err)
	}
	for _, lim := range []*Local{l, l2} {
		st, err := lim.Status(ctx, "s.example")
		if err != nil {
			t.Fatal(err)
		}
		if st.SentToday != 1 {
			t.Errorf("after the next-day reservation was given back: %v; want sent today 1", st)
		}
	}
}

// The spacing holds across a restart: the first request of the next run
// waits for the slot after the last one the earlier run was granted.
func TestLocalSpacingAcrossRestart(t *testing.T) {
	e, err := ParseTraffic("s.example=30")
	if err != nil {
		t.Fatal(err)
	}
	est, _ := NewEstimates(e)
	cfg := Config{Estimates: est, DayLength: time.Hour} // one request every 20 minutes
	l, err := NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := l.Wait(ctx, "s.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.LoadState(b); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = l2.Wait(wctx, "s.example")
	var later *LaterError
	if !errors.As(err, &later) {
		t.Fatalf("Wait just after the last run's grant: %v, want a LaterError", err)
	}
	if want := g.At.Add(20 * time.Minute); later.At.Before(want.Add(-time.Second)) {
		t.Errorf("next slot %v, want %v (one interval after the last grant)", later.At, want)
	}
}
