package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sledgo/sled"
)

// Exit codes of run.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed
	exitUsage = 2 // the command line is wrong
)

// command is one subcommand. setup registers its flags on fs and returns
// the function that runs it on the positional arguments, which parse has
// already counted against minArgs and maxArgs (maxArgs < 0: any number).
type command struct {
	name     string
	synopsis string // arguments, e.g. "-path DIR [-hex] KEY"
	short    string // one line for the usage text
	minArgs  int
	maxArgs  int
	setup    func(fs *flag.FlagSet) func(e *env, args []string) error
}

// commands returns the subcommands in the order the usage text lists them.
// It is a function, not a variable, because the commands refer back to it
// (through usage) and Go rejects initialization cycles.
func commands() []*command {
	return []*command{
		benchCmd,
		checkCmd,
		exportCmd,
		getCmd,
		importCmd,
		insertCmd,
		removeCmd,
		scanCmd,
		statsCmd,
		versionCmd,
	}
}

// env is what a command may touch of the outside world. Tests build their
// own to feed stdin and to open databases their way.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// stderrTerminal is whether stderr is a terminal: only then do long
	// commands (import, export, check, bench) draw a progress bar there.
	stderrTerminal bool
	// open opens the database at path; close releases it. Both are nil in
	// production (see openDB).
	open func(cfg sled.Config) (db *sled.DB, close func() error, err error)
}

// run executes the command line args (without the program name) and returns
// the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runEnv(&env{stdin: os.Stdin, stdout: stdout, stderr: stderr, stderrTerminal: isTerminal(stderr)}, args)
}

func runEnv(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(e.stdout, usage())
			return exitOK
		}
		c := lookup(rest[0])
		if c == nil {
			fmt.Fprintf(e.stderr, "sled: unknown command %q\n\n%s", rest[0], usage())
			return exitUsage
		}
		fmt.Fprint(e.stdout, c.usage())
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(e.stderr, "sled: unknown command %q\n\n%s", name, usage())
		return exitUsage
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below
	runCmd := c.setup(fs)
	pos, err := parse(fs, rest, c.minArgs, c.maxArgs)
	if err == nil {
		err = runCmd(e, pos)
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, c.usage())
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "sled %s: %s\n\n%s", c.name, ue.msg, c.usage())
		return exitUsage
	}
	// Library errors carry their own "sled: " prefix; print it once.
	msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "sled: "), ": sled: ", ": ")
	fmt.Fprintf(e.stderr, "sled: %s\n", msg)
	return exitFail
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usage is the top-level help text.
func usage() string {
	var b strings.Builder
	b.WriteString("sled is a tool for sled databases.\n\nUsage:\n\n\tsled <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "\t%-8s %s\n", c.name, c.short)
	}
	b.WriteString("\nRun \"sled help <command>\" or \"sled <command> -h\" for a command's flags.\n" +
		"Flags may follow arguments; \"--\" ends the flags (for a key that starts with \"-\").\n" +
		"Exit status: 0 success, 1 failure, 2 usage error.\n")
	return b.String()
}

// usage is the command's help text, flags included.
func (c *command) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: sled %s %s\n\n%s\n", c.name, c.synopsis, c.short)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
	}
	return b.String()
}

// usageError is an error of the command line: runEnv prints it with the
// command's usage and exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parse parses args with fs, allowing flags after positional arguments
// ("sled get KEY -path DIR"); "--" ends the flags. It returns the positional
// arguments and checks there are between min and max of them (max < 0: any).
func parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < min:
		return nil, usagef("missing arguments: want %d, got %d", min, len(pos))
	case max >= 0 && len(pos) > max:
		return nil, usagef("too many arguments: want at most %d, got %d", max, len(pos))
	}
	return pos, nil
}

// dbFlags are the flags of every command that works on a database.
type dbFlags struct {
	path     string
	tree     string
	readOnly bool // the command only reads: open with Config.ReadOnly
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "path", "", "directory of the database (required)")
	fs.StringVar(&f.tree, "tree", "", "name of the tree (default: the default tree)")
}

func (f *dbFlags) check() error {
	if f.path == "" {
		return usagef("-path is required")
	}
	return nil
}

// openDB opens the database of f. The caller must call close, and report
// its error: Close flushes.
func (e *env) openDB(f *dbFlags) (*sled.DB, func() error, error) {
	cfg := sled.Config{Path: f.path, ReadOnly: f.readOnly}
	if e.open != nil {
		return e.open(cfg)
	}
	db, err := cfg.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", f.path, err)
	}
	return db, db.Close, nil
}

// tree returns the tree of f. When create is false a missing tree is an
// error, so that reading commands never create trees as a side effect.
func (f *dbFlags) openTree(db *sled.DB, create bool) (*sled.Tree, error) {
	if f.tree == "" {
		return db.Tree, nil
	}
	if !create && !hasTree(db, f.tree) {
		return nil, fmt.Errorf("%w: %q", sled.ErrTreeNotFound, f.tree)
	}
	return db.OpenTree(f.tree)
}

func hasTree(db *sled.DB, name string) bool {
	for _, n := range db.TreeNames() {
		if n == name {
			return true
		}
	}
	return false
}

// withDB opens the database of f, runs fn and closes the database, joining
// fn's error with Close's.
func (e *env) withDB(f *dbFlags, fn func(db *sled.DB) error) (err error) {
	db, closeDB, err := e.openDB(f)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	return fn(db)
}
