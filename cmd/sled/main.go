// Command sled inspects, edits and benchmarks sled databases.
//
// Run "sled help" for the list of subcommands; each lives in its own file
// (bench.go, get.go, ...) and is driven by run, which tests call directly.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
