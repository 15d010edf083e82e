package dashboard

import "time"

// RenderForBench renders s's page as its loop does each second.
func RenderForBench(s *Server) []byte {
	s.mu.Lock()
	snap := s.st.snapshot()
	s.mu.Unlock()
	return renderBody(snap, time.Now())
}
