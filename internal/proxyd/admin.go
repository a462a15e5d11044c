package proxyd

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The admin address (--metrics) serves, on loopback or wherever the
// operator puts it (DESIGN.md "Programs"):
//
//	GET  /metrics                       Prometheus metrics
//	GET  /calls                         the calls being set up, as JSON
//	POST /calls/{call-id}/cancel        cancel one (?reason=...: its Reason)

// serveAdmin starts the admin HTTP server on addr and returns its
// listener's address.
func (s *Server) serveAdmin(addr string) (net.Addr, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.p.Calls())
	})
	mux.HandleFunc("POST /calls/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		n := s.p.CancelCall(r.PathValue("id"), r.URL.Query().Get("reason"))
		if n == 0 {
			w.WriteHeader(http.StatusNotFound)
		}
		writeJSON(w, map[string]int{"cancelled": n})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("proxyd: admin server", "err", err)
		}
	}()
	return ln.Addr(), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// collector reads the counters of every layer when Prometheus scrapes.
type collector struct{ s *Server }

var (
	descMsgs = prometheus.NewDesc("sipkit_transport_messages_total",
		"SIP messages by transport and direction.", []string{"transport", "direction"}, nil)
	descTransportErrs = prometheus.NewDesc("sipkit_transport_errors_total",
		"Messages that did not parse (parse), were dropped (dropped) or could not be sent (send), by transport.", []string{"transport", "kind"}, nil)
	descConns = prometheus.NewDesc("sipkit_transport_connections",
		"Open stream connections by transport.", []string{"transport"}, nil)
	descTx = prometheus.NewDesc("sipkit_transactions",
		"Live transactions by side.", []string{"side"}, nil)
	descProxy = prometheus.NewDesc("sipkit_proxy_events_total",
		"Proxy events: requests received, forwarded, branches started, CANCELs received, local replies, stateless forwards.", []string{"event"}, nil)
	descCalls = prometheus.NewDesc("sipkit_proxy_calls",
		"Requests being forwarded (response contexts).", nil, nil)
	descAORs = prometheus.NewDesc("sipkit_location_aors",
		"Addresses-of-record with at least one live binding.", nil, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMsgs, descTransportErrs, descConns, descTx, descProxy, descCalls, descAORs} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for tr, st := range s.tl.Stats() {
		counter(descMsgs, st.MessagesIn, tr, "in")
		counter(descMsgs, st.MessagesOut, tr, "out")
		counter(descTransportErrs, st.ParseErrors, tr, "parse")
		counter(descTransportErrs, st.Dropped, tr, "dropped")
		counter(descTransportErrs, st.SendErrors, tr, "send")
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.ConnsOpen), tr)
	}
	servers, clients := s.p.Layer().Len()
	ch <- prometheus.MustNewConstMetric(descTx, prometheus.GaugeValue, float64(servers), "server")
	ch <- prometheus.MustNewConstMetric(descTx, prometheus.GaugeValue, float64(clients), "client")
	ps := s.p.Stats()
	counter(descProxy, ps.Requests.Load(), "request")
	counter(descProxy, ps.Forwarded.Load(), "forwarded")
	counter(descProxy, ps.Branches.Load(), "branch")
	counter(descProxy, ps.Cancels.Load(), "cancel")
	counter(descProxy, ps.LocalReplies.Load(), "local_reply")
	counter(descProxy, ps.Stateless.Load(), "stateless")
	ch <- prometheus.MustNewConstMetric(descCalls, prometheus.GaugeValue, float64(len(s.p.Calls())))
	ch <- prometheus.MustNewConstMetric(descAORs, prometheus.GaugeValue, float64(s.store.Len()))
}
