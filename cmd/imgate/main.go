// Command imgate runs the imgate IM gateway and administers its store.
//
//	imgate serve                     serve the REST API
//	imgate migrate                   apply schema migrations and exit
//	imgate app create [--id ID] --name NAME
//	imgate app list
//	imgate app status --id ID --status normal|frozen|banned
//	imgate app update --id ID [--webhook-url URL] [--webhook-secret S] [--callback-signature S] [--webhook-events LIST]
//	imgate token create --app ID     a new admin token
//	imgate token import --app ID TOKEN
//	imgate token revoke TOKEN
//
// Every flag has an IMGATE_* environment variable; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgate:", err)
		os.Exit(1)
	}
}

const usage = `usage: imgate <command> [flags]

commands:
  serve           serve the REST API (default store: SQLite under --data-dir)
  migrate         apply schema migrations and print the schema version
  app create      create an app: [--id ID] --name NAME
  app list        list apps, one JSON line each
  app status      set an app's status (--id, --status normal|frozen|banned)
  app update      set an app's webhook (--id, --webhook-url, --webhook-secret,
                  --callback-signature, --webhook-events); flags not given are kept
  token create    create an admin token: --app ID
  token import    accept an existing token string as an admin token: --app ID TOKEN
  token revoke    revoke a token: TOKEN

Run "imgate <command> -h" for the flags of a command.`

// run is the whole program, callable from tests: args without the program
// name, getenv for the environment, stdout for results, stderr for logs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return e.serve(ctx, rest)
	case "migrate":
		return e.migrate(ctx, rest)
	case "app", "token":
		if len(rest) == 0 {
			fmt.Fprintln(stderr, usage)
			return flag.ErrHelp
		}
		return e.admin(ctx, cmd+" "+rest[0], rest[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// env is what every command gets from the process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}
