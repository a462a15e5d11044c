package transaction

import "time"

// Timers holds the base timer values of RFC 3261 §17.1.1.1 (Table 4);
// every transaction timer derives from them. Zero fields take the RFC's
// defaults.
type Timers struct {
	T1 time.Duration // RTT estimate; default 500 ms
	T2 time.Duration // maximum retransmit interval of non-INVITE requests and INVITE responses; default 4 s
	T4 time.Duration // maximum time a message stays in the network; default 5 s
}

func (t Timers) withDefaults() Timers {
	if t.T1 <= 0 {
		t.T1 = 500 * time.Millisecond
	}
	if t.T2 <= 0 {
		t.T2 = 4 * time.Second
	}
	if t.T4 <= 0 {
		t.T4 = 5 * time.Second
	}
	return t
}

// timeout64 is 64·T1: Timers B, F, H, J, L and M.
func (t Timers) timeout64() time.Duration { return 64 * t.T1 }

// timerD is how long an INVITE client transaction absorbs retransmitted
// final responses: at least 32 s on an unreliable transport, 0 on a
// reliable one (§17.1.1.2).
func (t Timers) timerD(reliable bool) time.Duration {
	if reliable {
		return 0
	}
	return max(32*time.Second, t.timeout64())
}

// unreliableOnly returns d on an unreliable transport and 0 on a
// reliable one: Timers I and K (T4) and J (64·T1).
func unreliableOnly(d time.Duration, reliable bool) time.Duration {
	if reliable {
		return 0
	}
	return d
}

// trying100 is how long an INVITE server transaction waits for the TU
// before it sends 100 Trying itself (§17.2.1).
const trying100 = 200 * time.Millisecond
