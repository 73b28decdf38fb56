package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"
)

var versionCmd = &command{
	name:     "version",
	synopsis: "",
	short:    "print the version of sled and of Go",
	minArgs:  0,
	maxArgs:  0,
	setup: func(*flag.FlagSet) func(*env, []string) error {
		return func(e *env, _ []string) error {
			tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
			path, version := "github.com/sledgo/sled", "unknown"
			var settings []debug.BuildSetting
			if bi, ok := debug.ReadBuildInfo(); ok {
				// A test binary has no main module version; keep the defaults.
				if bi.Main.Path != "" {
					path, version = bi.Main.Path, bi.Main.Version
				}
				settings = bi.Settings
			}
			fmt.Fprintf(tw, "sled\t%s %s\n", path, version)
			fmt.Fprintf(tw, "go\t%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			for _, s := range settings {
				switch s.Key {
				case "vcs.revision", "vcs.time", "vcs.modified":
					fmt.Fprintf(tw, "%s\t%s\n", s.Key, s.Value)
				}
			}
			return tw.Flush()
		}
	},
}
