// Command firstline-rotator keeps FIRST LINE API tokens fresh and delivers
// them to the software that uses them.
package main

import (
	"os"

	"github.com/firstline-rotator/firstline-rotator/cli"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(cli.Main(os.Args[1:], version, os.Stdout, os.Stderr))
}
