// Package keyed has one mutex per key (a session, a room, a client), made on first use and
// dropped when no one holds or waits for it.
package keyed

import "sync"

// Locks is a mutex per key; the zero value is ready.
type Locks[K comparable] struct {
	mu    sync.Mutex
	locks map[K]*lock
}

type lock struct {
	sync.Mutex
	users int
}

// Lock takes the key's mutex and returns what releases it.
func (k *Locks[K]) Lock(key K) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[K]*lock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &lock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// Held is how many keys have a mutex now (held or waited for).
func (k *Locks[K]) Held() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.locks)
}
