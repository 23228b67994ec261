package handlers

import (
	"time"

	"github.com/gin-gonic/gin"
)

// maxHeld bounds the refused answers held at once (refusedByLimit): each holds a goroutine
// and a connection, a few kilobytes; past it they leave at once.
var maxHeld = 4096

// refusedByLimit says when to come back (Retry-After, wait) to a request that a sign-in
// limit refused, and holds it for cfg.RefusedPause before its answer leaves, or until its
// client gives up. A guesser that waits for each answer
// (a script, wrk, a browser) is then slowed to one guess a second per connection, and
// the flood it makes against one account stops taking the CPU that other accounts'
// sign-ins need: a refused answer costs almost nothing, but a loop of them on every
// connection costs all of it. Nothing is held meanwhile: no lock, no transaction, no
// database connection. A client that does not wait for answers is not slowed; that
// is a flood of connections, for the proxy in front to limit.
func (a *App) refusedByLimit(c *gin.Context, wait time.Duration) {
	retryAfter(c, wait)
	if a.cfg.RefusedPause <= 0 {
		return
	}
	select {
	case a.held <- struct{}{}:
	default:
		return // holding as many as it keeps: this one leaves at once
	}
	defer func() { <-a.held }()
	t := time.NewTimer(a.cfg.RefusedPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.Request.Context().Done():
	}
}
