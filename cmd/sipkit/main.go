// Command sipkit runs the sipkit forking proxy and registrar, the user
// agents that call and answer, and a message checker.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipkit/sipkit/internal/agent"
	"github.com/sipkit/sipkit/internal/proxyd"
	"github.com/sipkit/sipkit/sip"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	code := 0
	root := &cobra.Command{
		Use:           "sipkit",
		Short:         "sipkit: a forking SIP proxy and registrar, user agents that call, cancel and answer, and a message checker",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetArgs(args)
	root.AddCommand(checkCmd(&code), callCmd(ctx, &code), answerCmd(ctx, &code), proxyCmd(ctx, &code))
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(errOut, "sipkit: %v\n", err)
		return 2
	}
	return code
}

func checkCmd(code *int) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: `Parse SIP messages (one per file, "-" for stdin) and print the verdict a server would give each`,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			*code = check(args, cmd.OutOrStdout())
			return nil
		},
	}
}

func proxyCmd(ctx context.Context, code *int) *cobra.Command {
	var (
		listen, trusted []string
		cfg             proxyd.Config
		logLevel        string
		configFile      string
		usersFile       string
	)
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Forking proxy and registrar: UDP and TCP on 127.0.0.1:5060, registrations in memory",
		Long: `Runs the transaction-stateful forking proxy and registrar (RFC 3261 §16, §10).
A request for one of the proxy's hosts (a listen address or a --domain) goes to
the contacts registered for its user, forked in parallel (serially by q-value
groups when they differ); anything else goes to its Request-URI. When a branch
answers, the others are cancelled with
  Reason: SIP;cause=200;text="Call completed elsewhere"
A caller's CANCEL Reason is passed downstream only from --trusted networks.
SIGINT or SIGTERM stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile != "" {
				if err := applyConfigFile(cmd.Flags(), configFile); err != nil {
					return err
				}
			}
			for _, s := range listen {
				l, err := proxyd.ParseListen(s)
				if err != nil {
					return err
				}
				cfg.Listen = append(cfg.Listen, l)
			}
			for _, s := range trusted {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					a, aerr := netip.ParseAddr(s)
					if aerr != nil {
						return fmt.Errorf("--trusted %q: want a CIDR such as 10.0.0.0/8", s)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				cfg.Trusted = append(cfg.Trusted, p)
			}
			if usersFile != "" {
				users, err := readUsers(usersFile)
				if err != nil {
					return err
				}
				cfg.Users = users
			}
			var lv slog.Level
			if err := lv.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: %w", logLevel, err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lv}))
			if err := proxyd.Run(ctx, cfg); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "sipkit proxy: %v\n", err)
				*code = 1
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&listen, "listen", nil, "TRANSPORT:HOST:PORT to serve (udp, tcp, tls, ws, wss); repeatable (default udp and tcp on 127.0.0.1:5060)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) presented by tls and wss listeners")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.StringArrayVar(&cfg.Domains, "domain", nil, "a domain this proxy serves (its users are looked up in the location store); repeatable")
	f.StringArrayVar(&trusted, "trusted", nil, "CIDR whose CANCEL Reason header is passed downstream; repeatable (default: none)")
	f.StringVar(&cfg.CancelReason, "cancel-reason", "", "Reason for downstream CANCELs when the caller is not trusted (default: none)")
	f.DurationVar(&cfg.NoAnswerTimeout, "no-answer-timeout", 120*time.Second, "cancel a branch that rings this long without an answer (Kamailio's fr_inv_timer)")
	f.DurationVar(&cfg.TimerC, "timer-c", 185*time.Second, "per-branch limit between provisional responses (RFC 3261 Timer C, more than 3m)")
	f.DurationVar(&cfg.MaxCallSetup, "max-call-setup", 10*time.Minute, "give a caller 408 and cancel what is pending after this long (Kamailio's max_inv_lifetime)")
	f.StringVar(&cfg.Location, "location", "memory", "location store: memory, or redis://HOST:PORT/DB shared by several proxies")
	f.StringVar(&cfg.Metrics, "metrics", "", "HOST:PORT for Prometheus /metrics and the admin API (GET /calls, POST /calls/{call-id}/cancel); no authentication: keep it on loopback")
	f.BoolVar(&cfg.NoRecordRoute, "no-record-route", false, "do not add Record-Route (in-dialog requests then bypass the proxy)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&usersFile, "users", "", "file of USER:PASSWORD lines: REGISTER, requests from these users and relaying need digest authentication (SHA-256 or MD5), except from --trusted")
	f.StringVar(&cfg.Realm, "realm", "", "digest realm for --users (default: the first --domain, else the listen address)")
	f.StringVar(&configFile, "config", "", "YAML file of these settings by flag name (listen: [...], trusted: [...], ...); flags given on the command line win")
	return cmd
}

func callCmd(ctx context.Context, code *int) *cobra.Command {
	var o agent.CallOptions
	var listen string
	c := &cobra.Command{
		Use:   "call TARGET-URI",
		Short: "Place a call; print one line per event",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := agent.ParseListen(listen)
			if err != nil {
				return err
			}
			o.Target, o.Listen = args[0], l
			*code = agent.Call(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Proxy, "proxy", "", "outbound proxy URI (first hop, preloaded Route)")
	f.StringVar(&o.From, "from", "", "From URI (default: sip:sipkit@the listen address)")
	f.StringVar(&listen, "listen", "udp:127.0.0.1:0", "TRANSPORT:HOST:PORT to send and receive on")
	f.DurationVar(&o.CancelAfter, "cancel-after", 0, "cancel the call this long after the INVITE is sent")
	f.StringVar(&o.Reason, "reason", "", `Reason header value for the CANCEL, e.g. 'SIP;cause=200;text="Call completed elsewhere"'`)
	f.DurationVar(&o.HangupAfter, "hangup-after", 0, "hang up this long after the call is answered")
	f.DurationVar(&o.Timeout, "timeout", 0, "give up after this long (default 5m)")
	f.BoolVar(&o.JSON, "json", false, "print events as JSON lines")
	f.StringVar(&o.Username, "user", "", "username for digest challenges")
	f.StringVar(&o.Password, "password", "", "password for digest challenges")
	return c
}

func answerCmd(ctx context.Context, code *int) *cobra.Command {
	var o agent.AnswerOptions
	var listen string
	c := &cobra.Command{
		Use:   "answer",
		Short: "Answer calls; print one line per event",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := agent.ParseListen(listen)
			if err != nil {
				return err
			}
			o.Listen = l
			*code = agent.Answer(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&listen, "listen", "udp:127.0.0.1:5062", "TRANSPORT:HOST:PORT to listen on")
	f.DurationVar(&o.AnswerAfter, "answer-after", 0, "ring this long, then answer")
	f.IntVar(&o.Decline, "decline", 0, "reject every call with this status (e.g. 486)")
	f.BoolVar(&o.RingForever, "ring-forever", false, "ring and never answer")
	f.IntVar(&o.Calls, "calls", 0, "exit after this many calls have ended (0: run until interrupted)")
	f.BoolVar(&o.JSON, "json", false, "print events as JSON lines")
	f.StringVar(&o.Register, "register", "", "address of record to register, e.g. sip:alice@127.0.0.1")
	f.StringVar(&o.Registrar, "registrar", "", "registrar URI, e.g. sip:127.0.0.1:5060")
	f.StringVar(&o.Username, "user", "", "username for digest challenges")
	f.StringVar(&o.Password, "password", "", "password for digest challenges")
	c.MarkFlagsRequiredTogether("register", "registrar")
	c.MarkFlagsMutuallyExclusive("answer-after", "decline", "ring-forever")
	return c
}

// check prints one line per file: "ok" and the start line, or the status
// code and reason phrase a server would answer with. It returns 1 if any
// message was rejected.
func check(files []string, out io.Writer) int {
	status := 0
	for _, f := range files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", f, err)
			status = 1
			continue
		}
		m, err := sip.Parse(data)
		if pe, ok := err.(*sip.ParseError); ok {
			fmt.Fprintf(out, "%s: %d %s\n", f, pe.StatusCode(), pe.Reason())
			status = 1
			continue
		}
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", f, err)
			status = 1
			continue
		}
		fmt.Fprintf(out, "%s: ok: %s\n", f, m.StartLine())
	}
	return status
}
