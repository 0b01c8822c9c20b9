package appservice

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/id"
)

// guestGhosts remembers, for this process, which ghost each web participant knocks as (a
// guest ghost's ID is random: the one prepared when their page opened must be the one that
// knocks) and the display name last set on each ghost, so that a knock under the same name
// makes no profile call.
type guestGhosts struct {
	mu     sync.Mutex
	chosen map[int64]*ghostChoice
	names  map[id.UserID]string
}

type ghostChoice struct {
	done  chan struct{}
	ghost id.UserID
	err   error
}

// once runs choose for a participant the first time (and again after a failure); concurrent
// callers wait for it and share its result.
func (g *guestGhosts) once(ctx context.Context, participant int64, choose func() (id.UserID, error)) (id.UserID, error) {
	g.mu.Lock()
	if g.chosen == nil {
		g.chosen = map[int64]*ghostChoice{}
	}
	if ch := g.chosen[participant]; ch != nil {
		g.mu.Unlock()
		select {
		case <-ch.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if ch.err == nil {
			return ch.ghost, nil
		}
		g.mu.Lock()
		if g.chosen[participant] == ch {
			delete(g.chosen, participant)
		}
		g.mu.Unlock()
		return g.once(ctx, participant, choose)
	}
	ch := &ghostChoice{done: make(chan struct{})}
	g.chosen[participant] = ch
	g.mu.Unlock()
	ch.ghost, ch.err = choose()
	close(ch.done)
	if ch.err != nil {
		g.mu.Lock()
		if g.chosen[participant] == ch {
			delete(g.chosen, participant)
		}
		g.mu.Unlock()
	}
	return ch.ghost, ch.err
}

// named reports whether the bridge set this name on the ghost last.
func (g *guestGhosts) named(ghost id.UserID, name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.names[ghost]
	return ok && n == name
}

func (g *guestGhosts) setName(ghost id.UserID, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.names == nil {
		g.names = map[id.UserID]string{}
	}
	g.names[ghost] = name
}

// ghostJoins makes one join per admission of a guest's ghost: the first caller joins, the
// others (the invite's echo, a reload of the page) wait for it and share its outcome. A failed
// join is tried again by the next caller; a new invite starts a new admission (forget).
type ghostJoins struct {
	mu    sync.Mutex
	joins map[string]*ghostJoin
}

type ghostJoin struct {
	done chan struct{}
	err  error
}

func (j *ghostJoins) do(roomID, ghost string, join func() error) error {
	key := roomID + "|" + ghost
	j.mu.Lock()
	if j.joins == nil {
		j.joins = map[string]*ghostJoin{}
	}
	if cur := j.joins[key]; cur != nil {
		j.mu.Unlock()
		<-cur.done
		if cur.err == nil {
			return nil
		}
		j.mu.Lock()
		if j.joins[key] == cur {
			delete(j.joins, key)
		}
		j.mu.Unlock()
		return j.do(roomID, ghost, join)
	}
	cur := &ghostJoin{done: make(chan struct{})}
	j.joins[key] = cur
	j.mu.Unlock()
	cur.err = join()
	close(cur.done)
	return cur.err
}

// forget ends what is known of the ghost's admission to the room: the next join is made.
func (j *ghostJoins) forget(roomID, ghost string) {
	j.mu.Lock()
	delete(j.joins, roomID+"|"+ghost)
	j.mu.Unlock()
}
