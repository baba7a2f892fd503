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
