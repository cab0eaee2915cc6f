package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/firstline-rotator/firstline-rotator/firstline/emulator"
)

func newEmulatorCmd() *cobra.Command {
	var (
		listen    string
		usersFile string
		rejectPut bool
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a FIRST LINE API emulator for testing consumers",
		Long: "emulator serves the FIRST LINE token API on a local address: log in " +
			"(POST /api/v1/auth),\nrefresh (PUT), log out, GET /api/v1/me and " +
			"/api/v1/tickets for any valid token,\nand /api/v1/admin/employees for " +
			"administrators. Each new token kills the\naccount's previous one, as the real " +
			"service does. Without --users it serves the\ndemo accounts demo-agent " +
			"(password demo-agent-password) and demo-admin\n(password demo-admin-password). " +
			"A --users file is a YAML list of {name, password,\nrole: agent|admin, id}.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			users := emulator.DefaultUsers()
			if usersFile != "" {
				var err error
				if users, err = emulator.LoadUsers(usersFile); err != nil {
					return usageError(err)
				}
			}

			em := emulator.New(emulator.Options{Users: users, RejectPut: rejectPut})
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return usageError(fmt.Errorf("listen on %s: %w", listen, err))
			}

			fmt.Fprintf(cmd.OutOrStdout(), "FIRST LINE emulator on http://%s with %d user(s)\n",
				ln.Addr(), len(users))
			if usersFile == "" {
				// The demo accounts' passwords are public fixtures, not secrets.
				for _, u := range users {
					fmt.Fprintf(cmd.OutOrStdout(), "  demo user %s (%s), password %s\n",
						u.Name, u.Role, u.Password)
				}
			}
			return serveUntilSignal(em.Handler(), ln)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8780", "address to listen on")
	cmd.Flags().StringVar(&usersFile, "users", "",
		"YAML file listing users (name, password, role, id)")
	cmd.Flags().BoolVar(&rejectPut, "reject-put", false,
		"answer a real PUT with 405, as FIRST LINE's front door can")
	return cmd
}

// serveUntilSignal serves h on ln until SIGINT or SIGTERM.
func serveUntilSignal(h http.Handler, ln net.Listener) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return failureError(fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}

	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return failureError(fmt.Errorf("shut down: %w", err))
	}
	return nil
}
