package models

import (
	"context"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db/dbtest"
)

// TestLivenessSQLAndGoAgree: liveCond (SQL) and live (Go) say the same of every session,
// over sessions with and without "remember me", signed in and last active at times on
// both sides of each lifetime, with expires_at written under older settings, and with
// and without an absolute lifetime.
func TestLivenessSQLAndGoAgree(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@example.com', 'h', 0)`); err != nil {
		t.Fatal(err)
	}
	offsets := []time.Duration{-31 * 24 * time.Hour, -30*24*time.Hour - time.Second, -30 * 24 * time.Hour, -25 * time.Hour,
		-24*time.Hour - time.Second, -24 * time.Hour, -3 * time.Hour, -2*time.Hour - time.Second, -2 * time.Hour,
		-2*time.Hour + time.Second, -time.Minute, 0}
	var sessions []Session
	for _, remember := range []bool{false, true} {
		for _, created := range offsets {
			for _, active := range offsets {
				if active < created {
					continue
				}
				for _, expires := range []time.Duration{-time.Second, 0, time.Second, 365 * 24 * time.Hour} {
					sessions = append(sessions, Session{Handle: newHandle(), Remember: remember,
						CreatedAt: now.Add(created), LastActiveAt: now.Add(active), ExpiresAt: now.Add(expires)})
				}
			}
		}
	}
	for i, ss := range sessions {
		if _, err := d.Write.ExecContext(ctx, `INSERT INTO sessions (handle, token_hash, user_id, created_at, last_active_at,
			expires_at, remember, stamp) VALUES (?, ?, 1, ?, ?, ?, ?, ?)`, ss.Handle, []byte{byte(i), byte(i >> 8), 1},
			unix(ss.CreatedAt), unix(ss.LastActiveAt), unix(ss.ExpiresAt), flag(ss.Remember), []byte{0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, life := range []Lifetimes{
		{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour, Remember: 30 * 24 * time.Hour},
		{Idle: 2 * time.Hour, Remember: 30 * 24 * time.Hour}, // no absolute lifetime
		{Idle: time.Hour, MaxAge: 2 * time.Hour, Remember: 24 * time.Hour},
	} {
		s := &Sessions{db: d, life: life}
		rows, err := d.Read.QueryContext(ctx, `SELECT s.handle FROM sessions s WHERE `+liveCond, s.liveArgs(now)...)
		if err != nil {
			t.Fatal(err)
		}
		inSQL := map[string]bool{}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			inSQL[h] = true
		}
		rows.Close()
		agree, alive := 0, 0
		for _, ss := range sessions {
			if s.live(ss, now) != inSQL[ss.Handle] {
				t.Errorf("%+v: SQL says live %v, Go says %v (remember %v, signed in %v ago, active %v ago, expires in %v)",
					life, inSQL[ss.Handle], s.live(ss, now), ss.Remember, now.Sub(ss.CreatedAt), now.Sub(ss.LastActiveAt), ss.ExpiresAt.Sub(now))
				continue
			}
			agree++
			if inSQL[ss.Handle] {
				alive++
			}
		}
		if alive == 0 || alive == len(sessions) {
			t.Errorf("%+v: %d of %d sessions live: the cases do not reach both sides", life, alive, len(sessions))
		}
	}
}

// TestLiveUntilHolds: a session live at now is live at every moment before LiveUntil,
// over sessions on both sides of every lifetime and moments a nanosecond to a month on.
func TestLiveUntilHolds(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 500, time.UTC)
	offsets := []time.Duration{-30 * 24 * time.Hour, -25 * time.Hour, -24*time.Hour + 1500*time.Millisecond,
		-3 * time.Hour, -2*time.Hour + time.Second, -time.Minute - 300*time.Millisecond, 0}
	steps := []time.Duration{time.Nanosecond, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond,
		time.Minute, time.Hour, 2 * time.Hour, 23 * time.Hour, 30 * 24 * time.Hour}
	checked := 0
	for _, life := range []Lifetimes{
		{Idle: 2 * time.Hour, MaxAge: 24 * time.Hour, Remember: 30 * 24 * time.Hour},
		{Idle: 2 * time.Hour, Remember: 30 * 24 * time.Hour},
		{Idle: time.Hour, MaxAge: 2 * time.Hour, Remember: 24 * time.Hour},
	} {
		s := &Sessions{life: life}
		for _, remember := range []bool{false, true} {
			for _, created := range offsets {
				for _, active := range offsets {
					if active < created {
						continue
					}
					for _, expires := range []time.Duration{1500 * time.Millisecond, time.Hour, 365 * 24 * time.Hour} {
						ss := Session{Remember: remember, CreatedAt: now.Add(created), LastActiveAt: now.Add(active),
							ExpiresAt: now.Add(expires)}
						if !s.live(ss, now) {
							continue
						}
						until := s.LiveUntil(ss)
						for _, step := range steps {
							if at := now.Add(step); at.Before(until) {
								checked++
								if !s.live(ss, at) {
									t.Errorf("%+v: %+v is live at now, LiveUntil %v, but not at now+%v", life, ss, until.Sub(now), step)
								}
							}
						}
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d moments checked", checked)
	}
}
