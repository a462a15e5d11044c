package registrar

import (
	"fmt"
	"time"

	"github.com/sipkit/sipkit/auth"
	"github.com/sipkit/sipkit/location"
	"github.com/sipkit/sipkit/sip"
)

// Config configures a Registrar. Every field documents its zero value.
type Config struct {
	// Store keeps the bindings. Required.
	Store location.Store

	// AOR maps the To URI of a REGISTER to its location key, and
	// reports false when this registrar does not keep bindings for the
	// URI's domain: the REGISTER then gets 404 Not Found, as RFC 3261
	// §10.3 step 5 requires for an address-of-record not valid for the
	// domain (Kamailio leaves the check to its script; its usual
	// configuration answers such REGISTERs from the script too). Nil:
	// location.Key, every domain accepted.
	AOR func(to sip.URI) (key string, ok bool)

	// DefaultExpires is the binding lifetime when a contact has no
	// expires parameter and the request no Expires header (RFC 3261
	// §10.3 step 7). Zero: 3600 s.
	DefaultExpires time.Duration

	// MinExpires is the shortest lifetime accepted: a nonzero expiry
	// below it (and below one hour) gets 423 Interval Too Brief with a
	// Min-Expires header (RFC 3261 §10.3 step 7). Zero: 60 s.
	MinExpires time.Duration

	// MaxExpires is the longest lifetime granted; longer requests are
	// cut down to it (RFC 3261 §10.3 step 7 lets the registrar shorten
	// the interval). Zero: 86400 s.
	MaxExpires time.Duration

	// MaxContacts is the most bindings an AOR may have. A REGISTER that
	// would add bindings beyond it gets 503 "Too many registered
	// contacts", as Kamailio's max_contacts does (RFC 3261 leaves this
	// open); refreshing or removing bindings is always allowed.
	// Zero: 10.
	MaxContacts int

	// Auth, if set, authenticates every REGISTER with digest (RFC 3261
	// §22): 401 with its challenge, and 403 when the authenticated user
	// is not the user of the address-of-record (§10.3 step 4). Nil: no
	// authentication.
	Auth *auth.Server

	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}

const (
	defaultExpires     = 3600 * time.Second
	defaultMinExpires  = 60 * time.Second
	defaultMaxExpires  = 86400 * time.Second
	defaultMaxContacts = 10
)

// withDefaults returns cfg with zero values replaced and checked.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Store == nil {
		return cfg, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if cfg.DefaultExpires < 0 || cfg.MinExpires < 0 || cfg.MaxExpires < 0 || cfg.MaxContacts < 0 {
		return cfg, fmt.Errorf("%w: negative expiry or contact limit", ErrConfig)
	}
	if cfg.Auth != nil && cfg.Auth.Realm == "" {
		return cfg, fmt.Errorf("%w: Auth.Realm is required", ErrConfig)
	}
	if cfg.AOR == nil {
		cfg.AOR = func(to sip.URI) (string, bool) { return location.Key(to), true }
	}
	if cfg.DefaultExpires == 0 {
		cfg.DefaultExpires = defaultExpires
	}
	if cfg.MinExpires == 0 {
		cfg.MinExpires = defaultMinExpires
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = defaultMaxExpires
	}
	if cfg.MaxContacts == 0 {
		cfg.MaxContacts = defaultMaxContacts
	}
	if cfg.MinExpires > cfg.MaxExpires {
		return cfg, fmt.Errorf("%w: MinExpires %v above MaxExpires %v", ErrConfig, cfg.MinExpires, cfg.MaxExpires)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}
