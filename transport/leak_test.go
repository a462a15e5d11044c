package transport

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a layer goroutine outlives the tests:
// every test closes its layers, and Close must wait for all of them
// (miekg/dns leak_test.go does the same).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := layerGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func layerGoroutines() string {
	var leaked []string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = leaked[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			// Ours, and the HTTP client's for WebSocket dials.
			if (strings.Contains(g, "sipkit/transport.(*") || strings.Contains(g, "net/http.(*persistConn)")) &&
				!strings.Contains(g, "TestMain") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
	return strings.Join(leaked, "\n\n")
}
