package keyed

import (
	"sync"
	"testing"
)

// TestOneAtATimePerKey: holders of one key take turns, another key is free meanwhile, and a
// key's mutex is dropped once released.
func TestOneAtATimePerKey(t *testing.T) {
	var k Locks[string]
	unlock := k.Lock("a")
	other := k.Lock("b") // not held up by "a"
	other()
	var wg sync.WaitGroup
	got := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		u := k.Lock("a")
		close(got)
		u()
	}()
	select {
	case <-got:
		t.Fatal("a second holder of a key got it while the first held it")
	default:
	}
	unlock()
	<-got
	wg.Wait()
	if n := k.Held(); n != 0 {
		t.Errorf("%d mutexes kept after every key was released", n)
	}
}
