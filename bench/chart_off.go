//go:build nochart

package main

import "errors"

// Built with -tags nochart (memory mode's children, which only run one
// engine and report back; see child.go): without the plotting library,
// whose fonts its package initialization parses, several MiB of resident
// memory that are the harness's, not the engine's.

var errNoChart = errors.New("charts are not linked into this binary (built with -tags nochart)")

func (r *Report) throughputChart(*ConfigResult, string) error { return errNoChart }
func (r *Report) durableChart(*DurableResult, string) error   { return errNoChart }
func (r *Report) memoryChart(*ConfigResult, string) error     { return errNoChart }
func (r *Report) txChart(*TxResult, bool, string) error       { return errNoChart }
