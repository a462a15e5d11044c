// Command sipkit runs the sipkit proxy and user agents.
//
// Only "check" exists yet; "proxy", "call" and "answer" arrive with the
// transport, transaction, proxy and ua packages.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sipkit/sipkit/sip"
)

const usage = `usage: sipkit COMMAND [ARGS]

commands:
  check FILE...   parse SIP messages (one per file, "-" for stdin) and
                  print the verdict a server would give each
  proxy           forking proxy and registrar (not built yet)
  call            place a call (not built yet)
  answer          answer calls (not built yet)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch cmd := os.Args[1]; cmd {
	case "check":
		os.Exit(check(os.Args[2:], os.Stdout))
	case "proxy", "call", "answer":
		fmt.Fprintf(os.Stderr, "sipkit %s: coming soon; today only the sip package (parser and writer) is built\n", cmd)
		os.Exit(1)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "sipkit: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
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
