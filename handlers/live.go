package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/elsewhere-dev/elsewhere/models"
)

const (
	// liveHeartbeat is how often an open stream shows it is alive and rechecks its session,
	// so a device that was signed out by any means (a lifetime, another process) hears it.
	liveHeartbeat = 15 * time.Second
	// liveLifetime is how long one stream lasts; the browser then opens another, which is
	// checked afresh and may land on another app server.
	liveLifetime = 30 * time.Minute
	// livePerSession caps one device's open streams on one app server. A browser holds at
	// most six connections per site over HTTP/1.1, and a stream takes one while its tab is
	// shown (the page closes it while hidden), so without a cap a few windows side by side
	// would leave none for the pages themselves.
	livePerSession = 3
	// liveWriteTimeout is how long one write to a stream may take before the client is
	// taken to be gone.
	liveWriteTimeout = 20 * time.Second
)

// liveStreams counts open streams per session and ends them all at shutdown.
type liveStreams struct {
	mu        sync.Mutex
	open      map[string]int // by session handle
	closing   chan struct{}
	closeOnce sync.Once
}

// take reserves a stream for the session; false when it has its share open already.
func (l *liveStreams) take(handle string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open == nil {
		l.open = make(map[string]int)
	}
	if l.open[handle] >= livePerSession {
		return false
	}
	l.open[handle]++
	return true
}

func (l *liveStreams) release(handle string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[handle]--; l.open[handle] <= 0 {
		delete(l.open, handle)
	}
}

// CloseStreams ends every open live stream, as the server shuts down: http.Server's
// Shutdown waits for handlers, and a stream's handler would otherwise never return. The
// browsers reconnect, to another app server if there is one. New streams are refused.
func (a *App) CloseStreams() {
	a.live.closeOnce.Do(func() { close(a.live.closing) })
}

// liveStream is GET /account/events: the Security page's live stream (text/event-stream).
// It sends "sessions" whenever the user's devices change, on any app server, and
// "signed-out" when this device no longer is, then ends. It checks the session at each
// change and heartbeat as any request would, without counting as activity.
func (a *App) liveStream(c *gin.Context) {
	sess := current(c)
	ck, err := c.Request.Cookie(a.cookieName)
	if err != nil {
		a.toLogin(c, a.path("/login"))
		return
	}
	tokenHash := models.HashToken(ck.Value)
	select {
	case <-a.live.closing:
		c.Status(http.StatusServiceUnavailable) // shutting down; the browser retries
		return
	default:
	}
	defer a.metrics.streamOpened()()
	full := !a.live.take(sess.Handle)
	if !full {
		defer a.live.release(sess.Handle)
	}

	ctx := c.Request.Context()
	// What the page has seen: the log entry it was drawn with, or after a reconnection
	// the last event the browser received. Anything newer is sent at once.
	seen, _ := strconv.ParseInt(c.Query("seen"), 10, 64)
	if id, err := strconv.ParseInt(c.GetHeader("Last-Event-ID"), 10, 64); err == nil {
		seen = id
	}

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	write := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		if _, err := fmt.Fprintf(c.Writer, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// check tells whether this device is still signed in and what changed since seen.
	check := func() (ok bool) {
		if _, _, err := a.sessions.Peek(ctx, tokenHash); err != nil {
			if ctx.Err() != nil {
				return false // the page went away
			}
			if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrSessionEnded) ||
				errors.Is(err, models.ErrGuessedOut) || errors.Is(err, models.ErrStampMismatch) {
				write("event: signed-out\ndata: signed-out\n\n")
				return false
			}
			// The database could not be asked: say nothing, and ask again later.
			a.log.Warn("live stream: check session", "err", err, "request_id", requestIDOf(c))
			return write(": unchecked\n\n")
		}
		latest, err := a.sessions.LatestChange(ctx, sess.UserID)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			a.log.Warn("live stream: latest change", "err", err, "request_id", requestIDOf(c))
			return write(": unchecked\n\n")
		}
		if latest == seen {
			return write(": ok\n\n")
		}
		seen = latest
		return write("id: %d\nevent: sessions\ndata: changed\n\n", latest)
	}

	if full {
		// This device has its share open on this server. Said in a 200: htmx's extension
		// retries any failed stream forever; on "full" the page closes it and polls.
		write("event: full\ndata: full\n\n")
		return
	}
	changes, stop := a.db.Watch(sess.UserID)
	defer stop()
	if !write("retry: 2000\n\n") || !check() {
		return
	}
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	end := time.NewTimer(a.streamLifetime(c, sess))
	defer end.Stop()
	// goodbye asks the page to close this stream and open another, and gives it a moment
	// to: a stream the server simply cut would show in the browser as a failed one.
	goodbye := func() {
		if write("event: reconnect\ndata: reconnect\n\n") {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.live.closing:
			goodbye()
			return
		case <-end.C:
			goodbye()
			return
		case _, open := <-changes:
			if !open {
				return
			}
			if !check() {
				return
			}
		case <-heartbeat.C:
			if !check() {
				return
			}
		}
	}
}
