package load

import "time"

// The ledger's sessions: what each client's logins became, as the client saw it (SessionEntry).

func (l *Ledger) sessionStarted(client int, user, sid string, at, exp time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sessions[sid]; ok {
		return
	}
	l.sessions[sid] = &SessionEntry{SessionID: sid, Client: client, User: user, StartedAt: at, ExpiresAt: exp}
	l.order = append(l.order, sid)
}

func (l *Ledger) sessionRejected(sid string, at time.Time, code string, alive bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[sid]
	if s == nil {
		return
	}
	s.Rejections++
	if alive && code == CodeSessionNotFound {
		s.RejectedAlive++
		s.Lost = true
	}
}

// sessionRefreshed counts a refresh of sid's access token.
func (l *Ledger) sessionRefreshed(sid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.sessions[sid]; s != nil {
		s.Refreshes++
	}
}

// sessionRefreshRefused records a refused refresh: the client presented the refresh token it was last
// given, so a refusal while the session was alive logs out a client that had every right to its session.
func (l *Ledger) sessionRefreshRefused(sid string, alive bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sessions[sid]
	if s == nil {
		return
	}
	s.Rejections++
	if alive {
		s.RejectedAlive++
		s.Lost = true
	}
}

func (l *Ledger) sessionEnded(sid string, at time.Time, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.sessions[sid]; s != nil && s.EndedAt.IsZero() {
		s.EndedAt, s.EndReason = at, reason
	}
}
