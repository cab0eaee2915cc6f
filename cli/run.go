package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/health"
	"github.com/firstline-rotator/firstline-rotator/metrics"
	"github.com/firstline-rotator/firstline-rotator/proxy"
	"github.com/firstline-rotator/firstline-rotator/rotator"
)

func newRunCmd(version string) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: rotate every account on schedule and before expiry",
		Long: "run rotates each account when its schedule fires and whenever its token " +
			"enters\nits renew_before window, and retries failures with backoff. SIGHUP " +
			"reloads the\nconfiguration (an invalid one is reported and the running one " +
			"kept); SIGTERM\nor SIGINT lets rotations in flight finish and exits 0. Logs go " +
			"to stderr.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			d := &daemonRun{path: path, version: version}
			return d.run(cfg)
		},
	}
	addConfigFlag(cmd, &path)
	return cmd
}

// proxyShutdownWait bounds how long proxies take to start or to finish
// the requests they serve when the daemon stops.
const proxyShutdownWait = 5 * time.Second

// daemonRun is one run of the daemon across configuration reloads.
type daemonRun struct {
	path    string
	version string
	log     zerolog.Logger
	metrics *metrics.Metrics
	proxies *proxy.Group
	current atomic.Pointer[instance]
}

// instance is a rotator running one configuration.
type instance struct {
	cfg    *config.Config
	rot    *rotator.Rotator
	cancel context.CancelFunc
	done   chan error
}

func (d *daemonRun) run(cfg *config.Config) error {
	d.log = newLogger(os.Stderr, cfg.Log)
	reg := metrics.NewRegistry()
	d.metrics = metrics.New(reg)
	d.proxies = proxy.NewGroup(d.metrics, d.log)

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)

	inst, err := d.start(cfg)
	if err != nil {
		return failureError(err)
	}

	srv, err := d.serveHTTP(cfg, reg)
	if err != nil {
		d.stop(inst, true)
		return failureError(err)
	}
	defer srv.close()

	notify("READY=1\nSTATUS=" + d.status())
	stopWatchdog := d.watchdog()
	defer stopWatchdog()

	return d.loop(signals)
}

func (d *daemonRun) loop(signals <-chan os.Signal) error {
	statusTick := time.NewTicker(30 * time.Second)
	defer statusTick.Stop()

	for {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info().Str("signal", sig.String()).Msg("stopping")
			notify("STOPPING=1")
			return d.stop(d.current.Load(), true)
		case err := <-d.current.Load().done:
			notify("STOPPING=1")
			return failureError(fmt.Errorf("rotator stopped: %w", err))
		case <-statusTick.C:
			notify("STATUS=" + d.status())
		}
	}
}

// start builds a rotator for cfg, connects it and runs it in the
// background.
func (d *daemonRun) start(cfg *config.Config) (*instance, error) {
	d.log = newLogger(os.Stderr, cfg.Log)
	d.log.Info().Str("version", d.version).Str("config", cfg.Path).
		Int("accounts", len(cfg.Accounts)).Int("sinks", countSinks(cfg.Accounts)).
		Str("state_dir", cfg.StateDir).Msg("starting")

	rot, err := rotator.New(cfg, rotator.Options{Logger: d.log, Recorder: d.metrics})
	if err != nil {
		return nil, err
	}

	// Proxies switch to the new rotator before it runs, so none serves a
	// token the old one held once the new one rotates.
	applyCtx, applyCancel := context.WithTimeout(context.Background(), proxyShutdownWait)
	err = d.proxies.Apply(applyCtx, cfg.Accounts, func(id string) (proxy.TokenSource, bool) {
		return rot.TokenSource(id)
	})
	applyCancel()
	if err != nil {
		rot.Close()
		return nil, fmt.Errorf("start proxies: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	rot.StartBackground(ctx)

	inst := &instance{cfg: cfg, rot: rot, cancel: cancel, done: make(chan error, 1)}
	go func() { inst.done <- rot.Run(ctx) }()
	d.current.Store(inst)
	return inst, nil
}

// stop ends an instance, letting its rotations in flight finish. A final
// stop also closes the proxies and revokes the tokens of accounts with
// revoke_on_shutdown; a reload does neither.
func (d *daemonRun) stop(inst *instance, final bool) error {
	inst.cancel()
	err := <-inst.done

	if final {
		ctx, cancel := context.WithTimeout(context.Background(), proxyShutdownWait)
		if perr := d.proxies.Shutdown(ctx); perr != nil {
			d.log.Warn().Err(perr).Msg("close proxies")
		}
		cancel()
		inst.rot.Shutdown(context.Background())
	}
	inst.rot.Close()
	if err != nil {
		return failureError(err)
	}
	if final {
		d.log.Info().Msg("stopped")
	}
	return nil
}

// reload replaces the running configuration with the file's current one,
// unless the file is invalid, in which case the running one stays.
func (d *daemonRun) reload() {
	notify("RELOADING=1\nMONOTONIC_USEC=" + monotonicUsec())
	defer notify("READY=1\nSTATUS=" + d.status())

	cfg, err := loadConfig(d.path)
	if err != nil {
		d.log.Error().Err(err).Msg("reload refused; the running configuration stays in force")
		return
	}

	old := d.current.Load()
	if cfg.HTTP.Listen != old.cfg.HTTP.Listen {
		d.log.Warn().Str("listen", cfg.HTTP.Listen).
			Msg("http.listen changed; the new address takes effect at the next restart")
	}
	if err := d.stop(old, false); err != nil {
		d.log.Error().Err(err).Msg("stop the running configuration")
	}
	for _, gone := range removedAccounts(old.cfg, cfg) {
		d.metrics.AccountRemoved(gone)
	}

	if _, err := d.start(cfg); err != nil {
		d.log.Error().Err(err).Msg("start the new configuration; restarting the old one")
		if _, err := d.start(old.cfg); err != nil {
			d.log.Error().Err(err).Msg("restart the old configuration")
		}
		return
	}
	d.log.Info().Msg("configuration reloaded")
}

func (d *daemonRun) status() string {
	inst := d.current.Load()
	if inst == nil {
		return "starting"
	}

	account, at := inst.rot.NextRun()
	if account == "" {
		return fmt.Sprintf("%d account(s)", len(inst.cfg.Accounts))
	}
	return fmt.Sprintf("%d account(s); next rotation %s at %s", len(inst.cfg.Accounts),
		account, at.UTC().Format(time.RFC3339))
}

// httpServer is the health and metrics listener, or nothing.
type httpServer struct{ srv *health.Server }

func (h httpServer) close() {
	if h.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.srv.Shutdown(ctx)
	}
}

func (d *daemonRun) serveHTTP(cfg *config.Config, reg *prometheus.Registry) (httpServer, error) {
	if cfg.HTTP.Listen == "" {
		return httpServer{}, nil
	}

	ready := func() (bool, string) { return d.current.Load().rot.Ready() }
	srv := health.NewServer(cfg.HTTP.Listen, reg, ready, d.log)
	if err := srv.Start(); err != nil {
		return httpServer{}, fmt.Errorf("listen on http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	return httpServer{srv: srv}, nil
}

// watchdog pings systemd's watchdog while the rotator's loop is alive,
// and returns a function that stops it.
func (d *daemonRun) watchdog() func() {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return func() {}
	}

	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(interval / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if inst := d.current.Load(); inst != nil && inst.rot.Alive(interval) {
					notify("WATCHDOG=1")
				}
			}
		}
	}()
	return func() { close(stop) }
}

func notify(state string) {
	_, _ = daemon.SdNotify(false, state)
}

func monotonicUsec() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprint(ts.Nano() / 1000)
}

// removedAccounts lists the accounts of old that next no longer has.
func removedAccounts(old, next *config.Config) []string {
	kept := make(map[string]bool, len(next.Accounts))
	for _, a := range next.Accounts {
		kept[a.ID] = true
	}

	var gone []string
	for _, a := range old.Accounts {
		if !kept[a.ID] {
			gone = append(gone, a.ID)
		}
	}
	return gone
}
