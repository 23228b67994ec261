package models

import "time"

// Whether a session is still signed in, said once in SQL (liveCond, for queries) and once
// in Go (live, for sessions read earlier and remembered), side by side so they cannot
// drift: TestLivenessSQLAndGoAgree checks one against the other over every case.

// liveCond is the condition, on the sessions table aliased s, that a session is still
// signed in under the current lifetimes, whatever expires_at was written under older
// ones; liveArgs gives its arguments. It is a constant, so every query that uses it is
// one fixed statement.
const liveCond = `s.expires_at > ? AND ((s.remember <> 0 AND s.created_at > ?) OR ` +
	`(s.remember = 0 AND s.last_active_at > ? AND s.created_at > ?))`

// liveArgs are liveCond's arguments at now.
func (s *Sessions) liveArgs(now time.Time) []any {
	maxAgeCut := int64(-1) // no absolute lifetime: every sign-in time passes
	if s.life.MaxAge > 0 {
		maxAgeCut = unix(now.Add(-s.life.MaxAge))
	}
	return []any{unix(now), unix(now.Add(-s.life.Remember)), unix(now.Add(-s.life.Idle)), maxAgeCut}
}

// expiry is when a session signed in at created and last active at active ends.
func (s *Sessions) expiry(remember bool, created, active time.Time) time.Time {
	if remember {
		return created.Add(s.life.Remember)
	}
	end := active.Add(s.life.Idle)
	if s.life.MaxAge > 0 && created.Add(s.life.MaxAge).Before(end) {
		end = created.Add(s.life.MaxAge)
	}
	return end
}

// live says whether a session read earlier is still signed in at now under the current
// lifetimes: liveCond, in Go. A session that was not live when read cannot become so
// without a commit.
func (s *Sessions) live(ss Session, now time.Time) bool {
	maxAgeCut := int64(-1)
	if s.life.MaxAge > 0 {
		maxAgeCut = unix(now.Add(-s.life.MaxAge))
	}
	if unix(ss.ExpiresAt) <= unix(now) {
		return false
	}
	if ss.Remember {
		return unix(ss.CreatedAt) > unix(now.Add(-s.life.Remember))
	}
	return unix(ss.LastActiveAt) > unix(now.Add(-s.life.Idle)) && unix(ss.CreatedAt) > maxAgeCut
}

// LiveUntil is an instant up to which a session read earlier, live then, stays live at
// the least (live holds at every moment before it): a second before liveCond could first
// turn false for it, so what was drawn from a list of sessions holds until the earliest.
func (s *Sessions) LiveUntil(ss Session) time.Time {
	end := s.expiry(ss.Remember, ss.CreatedAt, ss.LastActiveAt)
	if ss.ExpiresAt.Before(end) {
		end = ss.ExpiresAt
	}
	return end.Truncate(time.Second).Add(-time.Second)
}
