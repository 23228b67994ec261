package handlers

import (
	"runtime/debug"
	"sync"

	"github.com/elsewhere-dev/elsewhere/models"
)

// hookBacklog is how many events may wait for a slow OnEvent hook before more are dropped.
const hookBacklog = 1024

// hookQueue hands events to Config.OnEvent in order, on one goroutine that runs while
// there is something to deliver and ends when the queue is empty.
type hookQueue struct {
	mu      sync.Mutex
	pending []models.Event
	running bool
}

// emit tells the embedding app's OnEvent hook of ev, after the request's own work: the
// hook cannot hold up, fail or change the answer.
func (a *App) emit(ev models.Event) {
	a.metrics.event(ev)
	if a.cfg.OnEvent == nil || ev.ID == 0 {
		return
	}
	q := &a.hooks
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= hookBacklog {
		a.log.Error("event hook: too far behind; event dropped", "kind", ev.Kind, "event_id", ev.ID)
		return
	}
	q.pending = append(q.pending, ev)
	if !q.running {
		q.running = true
		go a.deliver()
	}
}

// deliver calls the hook for each pending event in turn until none is left.
func (a *App) deliver() {
	q := &a.hooks
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.pending, q.running = nil, false
			q.mu.Unlock()
			return
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		a.callHook(ev)
	}
}

// callHook runs the hook once; a panic in it is logged, not spread.
func (a *App) callHook(ev models.Event) {
	defer func() {
		if v := recover(); v != nil {
			a.log.Error("event hook panicked", "kind", ev.Kind, "event_id", ev.ID, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	a.cfg.OnEvent(ev)
}
