package tcp

// Undo is the state a reduction's undo works from, for the tests:
// prior_cwnd, prior_ssthresh, undo_marker, undo_retrans and whether
// F-RTO is under way.
type Undo struct {
	PriorCwnd, PriorSsthresh, Marker uint32
	Retrans                          int
	FRTO                             bool
}

// UndoState returns sk's Undo.
func (sk *Sock) UndoState() Undo {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return Undo{sk.priorCwnd, sk.priorSsth, sk.undoMarker, sk.undoRetrans, sk.frto}
}

// ISN returns sk's initial sequence number.
func (sk *Sock) ISN() uint32 {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.iss
}

// SndNxt returns sk's snd_nxt.
func (sk *Sock) SndNxt() uint32 {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.sndNxt
}
