package transaction

// State is a transaction state (RFC 3261 §17, RFC 6026 §7).
type State uint8

const (
	Calling    State = iota // INVITE client: request sent, nothing heard
	Trying                  // non-INVITE client and server: nothing sent back yet
	Proceeding              // a provisional response was received or sent
	Completed               // a final non-2xx (INVITE) or any final (non-INVITE) was received or sent
	Confirmed               // INVITE server: the ACK for the non-2xx final arrived
	Accepted                // INVITE, RFC 6026: a 2xx was received or sent
	Terminated
)

var stateNames = [...]string{"Calling", "Trying", "Proceeding", "Completed", "Confirmed", "Accepted", "Terminated"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(?)"
}
