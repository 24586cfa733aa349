package clock

import (
	"testing"
	"time"
)

func TestFakeFiresTimersInOrderWhenAdvanced(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	late, early := f.NewTimer(2*time.Second), f.NewTimer(time.Second)
	stopped := f.NewTimer(time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of a pending timer is true once, then false")
	}
	if got := f.Pending(); len(got) != 2 {
		t.Fatalf("pending %v, want 2 timers", got)
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-early.C():
		t.Fatal("fired before its deadline")
	default:
	}
	f.Advance(time.Millisecond)
	if at := <-early.C(); !at.Equal(start.Add(time.Second)) {
		t.Fatalf("fired at %v", at)
	}
	if early.Stop() {
		t.Fatal("Stop of a fired timer is false")
	}
	f.Set(start.Add(5 * time.Second))
	if at := <-late.C(); !at.Equal(start.Add(2 * time.Second)) {
		t.Fatalf("late fired at %v", at)
	}
	select {
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if !f.Now().Equal(start.Add(5 * time.Second)) {
		t.Fatalf("now %v", f.Now())
	}
}

func TestFakeZeroTimerFiresAtOnceAndSignalsCreation(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Unix(0, 0))
	created := f.TimerCreated()
	tm := f.NewTimer(0)
	<-created
	select {
	case <-tm.C():
	default:
		t.Fatal("a zero-duration timer must fire at once")
	}
}

func TestFakeAutoAdvanceFiresTimersUntilStopped(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Unix(0, 0))
	stop := f.AutoAdvance()
	for _, d := range []time.Duration{time.Second, time.Hour} {
		<-f.NewTimer(d).C() // would block forever without the advancing
	}
	stop()
	tm := f.NewTimer(time.Minute)
	select {
	case <-tm.C():
		t.Fatal("a timer fired after stop")
	case <-time.After(50 * time.Millisecond):
	}
}
