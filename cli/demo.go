package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/firstline-rotator/firstline-rotator/config"
	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
	"github.com/firstline-rotator/firstline-rotator/rotator"
	"github.com/firstline-rotator/firstline-rotator/secret"
)

// demoConfig is the configuration the demo writes and loads; the %s are
// the emulator's URL, the demo directory and the rotation interval.
const demoConfig = `# Written by "firstline-rotator demo".
log: {level: warn, format: console}
state_dir: %[2]s/state
firstline:
  base_url: %[1]s
  timeout: 5s
accounts:
  - id: support-bot
    credentials:
      file: {name_file: %[2]s/credentials/name, password_file: %[2]s/credentials/password}
    token_ttl: 1h
    schedule: "@every %[3]s"
    max_logins_per_hour: 3600
    sinks:
      - {type: file, path: %[2]s/tokens/support-bot.token}
      - {type: envfile, path: %[2]s/tokens/app.env, key: FIRSTLINE_TOKEN, dialect: dotenv}
`

func newDemoCmd() *cobra.Command {
	var (
		interval  time.Duration
		rotations int
		keep      bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch tokens rotate against a built-in FIRST LINE emulator",
		Long: "demo starts the FIRST LINE emulator on a free loopback port, writes a " +
			"configuration\ninto a temporary directory and rotates a token every few " +
			"seconds, showing where\neach token lands and that the previous one is now " +
			"rejected by the API.\nCtrl-C stops it.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval < time.Second {
				return usageError(fmt.Errorf("--interval %s: use 1s or more", interval))
			}
			return runDemo(cmd.OutOrStdout(), interval, rotations, keep)
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", 3*time.Second, "time between rotations")
	cmd.Flags().IntVar(&rotations, "rotations", 0, "stop after this many rotations (0: run "+
		"until Ctrl-C)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the demo directory when stopping")
	return cmd
}

func runDemo(out io.Writer, interval time.Duration, rotations int, keep bool) error {
	users := emulator.DefaultUsers()
	em := emulator.New(emulator.Options{Users: users})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return failureError(fmt.Errorf("listen for the emulator: %w", err))
	}
	srv := &http.Server{Handler: em.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	baseURL := "http://" + ln.Addr().String()

	dir, err := writeDemoFiles(baseURL, interval, users[0])
	if err != nil {
		return failureError(err)
	}
	if !keep {
		defer os.RemoveAll(dir)
	}

	cfg, err := config.Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return failureError(fmt.Errorf("load the demo configuration: %w", err))
	}

	fmt.Fprintf(out, "FIRST LINE emulator: %s\nDemo directory:      %s\n", baseURL, dir)
	fmt.Fprintf(out, "Rotating support-bot every %s; press Ctrl-C to stop.\n\n", interval)
	return demoLoop(out, cfg, baseURL, rotations)
}

// demoLoop runs the rotator until Ctrl-C or the wanted number of
// rotations, printing each rotation and checking the previous token.
func demoLoop(out io.Writer, cfg *config.Config, baseURL string, rotations int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu    sync.Mutex
		count int
	)
	onRotated := func(ev rotator.Event) {
		mu.Lock()
		defer mu.Unlock()
		printRotation(out, baseURL, ev)
		if count++; rotations > 0 && count >= rotations {
			cancel()
		}
	}

	r, err := rotator.New(cfg, rotator.Options{
		Logger: newLogger(os.Stderr, cfg.Log), OnRotated: onRotated,
	})
	if err != nil {
		return failureError(err)
	}
	defer r.Close()

	if err := r.Run(ctx); err != nil {
		return failureError(err)
	}
	fmt.Fprintf(out, "\nStopped after %d rotation(s).\n", count)
	return nil
}

func printRotation(out io.Writer, baseURL string, ev rotator.Event) {
	fmt.Fprintf(out, "[%s] %s generation %d: token %s written to %s in %s\n",
		time.Now().Format("15:04:05"), ev.Account, ev.Generation, ev.Token.Fingerprint(),
		strings.Join(ev.Sinks, ", "), ev.Exposure.Round(time.Microsecond))
	fmt.Fprintf(out, "           new token %s: GET /api/v1/me -> %s\n",
		ev.Token.Fingerprint(), probeStatus(baseURL, ev.Token))
	if !ev.Previous.Empty() {
		fmt.Fprintf(out, "           old token %s: GET /api/v1/me -> %s (killed by the new "+
			"log-in)\n", ev.Previous.Fingerprint(), probeStatus(baseURL, ev.Previous))
	}
}

// probeStatus calls the emulator with a token the way a consumer would.
func probeStatus(baseURL string, token secret.String) string {
	req, err := http.NewRequest(http.MethodGet, baseURL+"/api/v1/me", nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token.Reveal())
	req.Header.Set("Accept", "application/json")

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	resp.Body.Close()
	return resp.Status
}

// writeDemoFiles lays out the demo directory: configuration, credential
// files and an empty token directory.
func writeDemoFiles(baseURL string, interval time.Duration, user emulator.User) (string, error) {
	dir, err := os.MkdirTemp("", "firstline-rotator-demo-")
	if err != nil {
		return "", fmt.Errorf("create demo directory: %w", err)
	}

	files := map[string]string{
		"config.yaml":          fmt.Sprintf(demoConfig, baseURL, dir, interval),
		"credentials/name":     user.Name,
		"credentials/password": user.Password,
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fmt.Errorf("create demo directory: %w", err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return "", fmt.Errorf("write demo file: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		return "", fmt.Errorf("create demo directory: %w", err)
	}
	return dir, nil
}
