package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"slices"
	"sort"
	"strings"
	"time"
)

// report is what the soak prints.
type report struct {
	elapsed          time.Duration
	answers          [6]int
	inside, outside  []failure
	windows          []window
	notes            []string
	revocations      int64
	checks, accepted int64
	unverified       int64
	pushes           []time.Duration
	missedOutside    int
	missedInside     int
	mail             mailTally
	metrics          map[string]float64
}

func (l *load) report(elapsed time.Duration) *report {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &report{elapsed: elapsed, answers: l.answers, windows: l.windows, notes: l.notes,
		revocations: l.revocations.Load(), checks: l.checks.Load(), accepted: l.accepted.Load(),
		unverified: l.unverified.Load(), pushes: slices.Clone(l.pushes)}
	for _, f := range l.failures {
		if inWindow(l.windows, f.start, f.end) {
			r.inside = append(r.inside, f)
		} else {
			r.outside = append(r.outside, f)
		}
	}
	for _, m := range l.missed {
		if inWindow(l.windows, m.start, m.end) {
			r.missedInside++
		} else {
			r.missedOutside++
		}
	}
	return r
}

// mailTally is the outbox against the SMTP sink once the outbox is drained.
type mailTally struct {
	queued, sent, gaveUp, unsent, pendingAlerts int
	heldAlerts                                  int // pending for accounts at their hourly cap of alert mails
	received                                    int
	drained                                     bool
	waited                                      time.Duration
}

// drainMail waits (up to three minutes: alerts wait for 30 s of quiet) until no alert is
// pending and every mail is sent, then counts.
func drainMail(ctx context.Context, w *world, s *sink) mailTally {
	start := time.Now()
	var t mailTally
	for {
		// Alerts of an account that had its hourly cap of alert mails (6) wait for the
		// next hour by design (models/alerts.go): held, not pending.
		hourAgo := time.Now().Add(-time.Hour).Unix()
		err := w.db.Read.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM alert_items a WHERE a.user_id NOT IN (SELECT user_id FROM outbox WHERE kind = 'alert' AND created_at > ? GROUP BY user_id HAVING COUNT(*) >= 6)),
			(SELECT COUNT(*) FROM alert_items a WHERE a.user_id IN (SELECT user_id FROM outbox WHERE kind = 'alert' AND created_at > ? GROUP BY user_id HAVING COUNT(*) >= 6)),
			(SELECT COUNT(*) FROM outbox WHERE sent_at = 0)`, hourAgo, hourAgo).
			Scan(&t.pendingAlerts, &t.heldAlerts, &t.unsent)
		if err == nil && t.pendingAlerts == 0 && t.unsent == 0 {
			t.drained = true
			break
		}
		if time.Since(start) > 3*time.Minute || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	// The servers record a send after the SMTP server has it: let the last ones land.
	time.Sleep(2 * time.Second)
	t.waited = time.Since(start)
	if err := w.db.Read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN sent_at > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at < 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN sent_at = 0 THEN 1 ELSE 0 END), 0) FROM outbox`).
		Scan(&t.queued, &t.sent, &t.gaveUp, &t.unsent); err != nil {
		log.Printf("count the outbox: %v", err)
	}
	t.received = s.received()
	return t
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func (r *report) print(w io.Writer, cfg config) {
	total := 0
	for _, n := range r.answers {
		total += n
	}
	fmt.Fprintf(w, "\n== soak: %d app servers on PostgreSQL, %s of load, %d clients ==\n", cfg.servers, r.elapsed.Round(time.Second), cfg.clients)
	for _, n := range r.notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "requests:             %d (%.0f/s): 2xx %d, 3xx %d, 4xx %d, 5xx %d, transport errors %d\n",
		total, float64(total)/r.elapsed.Seconds(), r.answers[2], r.answers[3], r.answers[4], r.answers[5], r.answers[0])
	fmt.Fprintf(w, "5xx/errors in restart windows:  %d\n", len(r.inside))
	fmt.Fprintf(w, "5xx/errors outside them:        %d\n", len(r.outside))
	byWhat := map[string]int{}
	for _, f := range r.outside {
		byWhat[f.what]++
	}
	keys := make([]string, 0, len(byWhat))
	for k := range byWhat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "    %5d  %s\n", byWhat[k], k)
	}
	fmt.Fprintf(w, "revocations:          %d done; revoked device tried on every server %d times; accepted afterwards: %d (must be 0); no answer: %d\n",
		r.revocations, r.checks, r.accepted, r.unverified)
	m := r.mail
	fmt.Fprintf(w, "mail:                 queued %d, sent %d, given up %d, unsent %d, alerts pending %d (held for the next hour by the 6-an-hour cap: %d); the SMTP sink received %d",
		m.queued, m.sent, m.gaveUp, m.unsent, m.pendingAlerts, m.heldAlerts, m.received)
	switch {
	case !m.drained:
		fmt.Fprintf(w, " (NOT drained after %s)\n", m.waited.Round(time.Second))
	case m.received < m.sent:
		fmt.Fprintf(w, " (LOST %d)\n", m.sent-m.received)
	case m.received > m.sent:
		fmt.Fprintf(w, " (%d sent twice: a server died, or the database went away, between a send and its record; at least once is the outbox's promise)\n", m.received-m.sent)
	default:
		fmt.Fprintf(w, " (nothing lost; drained %s after the load)\n", m.waited.Round(time.Second))
	}
	slices.Sort(r.pushes)
	fmt.Fprintf(w, "push latency:         %d changes on server 1 to live streams on server 0: p50 %s, p90 %s, p99 %s, max %s; no event within 10 s: %d (%d more in restart windows)\n",
		len(r.pushes), percentile(r.pushes, .5).Round(100*time.Microsecond), percentile(r.pushes, .9).Round(100*time.Microsecond),
		percentile(r.pushes, .99).Round(100*time.Microsecond), percentile(r.pushes, 1).Round(100*time.Microsecond), r.missedOutside, r.missedInside)
	if len(r.metrics) > 0 {
		fmt.Fprintf(w, "servers' metrics at the end (the killed server's counts before it died are lost):\n")
		names := make([]string, 0, len(r.metrics))
		for k := range r.metrics {
			if strings.Contains(k, "_sum") || strings.Contains(k, "_count") || strings.HasPrefix(k, "elsewhere_security_events") {
				continue
			}
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(w, "    %-60s %.0f\n", k, r.metrics[k])
		}
	}
}
