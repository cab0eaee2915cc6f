package consumers

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/firstline-rotator/firstline-rotator/metrics"
)

// The process keeps SIGUSR1 routed to a channel from the first
// subscription on: a signal hook's signal that arrived after a test
// stopped listening would otherwise end the test binary.
var usr1 struct {
	once sync.Once
	mu   sync.Mutex
	next int
	subs map[int]func()
}

// onSIGUSR1 calls f on every SIGUSR1 until the returned function is
// called.
func onSIGUSR1(f func()) (cancel func()) {
	usr1.once.Do(func() {
		usr1.subs = make(map[int]func())
		signals := make(chan os.Signal, 16)
		signal.Notify(signals, syscall.SIGUSR1)
		go func() {
			for range signals {
				usr1.mu.Lock()
				for _, sub := range usr1.subs {
					sub()
				}
				usr1.mu.Unlock()
			}
		}()
	})

	usr1.mu.Lock()
	defer usr1.mu.Unlock()
	usr1.next++
	key := usr1.next
	usr1.subs[key] = f
	return func() {
		usr1.mu.Lock()
		defer usr1.mu.Unlock()
		delete(usr1.subs, key)
	}
}

// hookCounter is the rotator's Recorder: it counts failed hooks and
// passes everything else to a nil *metrics.Metrics, which records nothing.
type hookCounter struct {
	*metrics.Metrics
	failed atomic.Int64
}

// HookResult counts a hook's failure.
func (c *hookCounter) HookResult(_, _, result string) {
	if result != "success" {
		c.failed.Add(1)
	}
}

// retryCounter is the proxy's Recorder, counting retries.
type retryCounter struct {
	retries atomic.Int64
}

func (c *retryCounter) ProxyRetry(string)             { c.retries.Add(1) }
func (*retryCounter) ProxyRequest(string, string)     {}
func (*retryCounter) ProxyWait(string, time.Duration) {}
func (c *retryCounter) count() int                    { return int(c.retries.Load()) }
