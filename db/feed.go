package db

import "sync"

// feed tells the watchers of a user that the user's sessions may have changed. It keeps
// no history: a watcher that was not listening rereads the state it shows when it starts.
type feed struct {
	mu       sync.Mutex
	watchers map[int64]map[chan struct{}]struct{}
	closed   bool
}

// watch registers a watcher of userID. Its channel holds at most one pending wake-up, so
// a burst of changes costs the watcher one reread; it is closed when the feed closes.
func (f *feed) watch(userID int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	if f.watchers == nil {
		f.watchers = make(map[int64]map[chan struct{}]struct{})
	}
	set := f.watchers[userID]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		f.watchers[userID] = set
	}
	set[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if s := f.watchers[userID]; s != nil {
				delete(s, ch)
				if len(s) == 0 {
					delete(f.watchers, userID)
				}
			}
		})
	}
}

// publish wakes every watcher of each of the users.
func (f *feed) publish(userIDs ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range userIDs {
		for ch := range f.watchers[id] {
			wake(ch)
		}
	}
}

// publishAll wakes every watcher: changes may have been missed (a lost connection to the
// database that carries them), so everyone rereads.
func (f *feed) publishAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, set := range f.watchers {
		for ch := range set {
			wake(ch)
		}
	}
}

// close ends every watch; later watches end at once.
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for _, set := range f.watchers {
		for ch := range set {
			close(ch)
		}
	}
	f.watchers = nil
}

// count says how many watchers there are.
func (f *feed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, set := range f.watchers {
		n += len(set)
	}
	return n
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a wake-up is already pending
	}
}
