// Command replicated-kv runs one node of a replicated key-value service:
// hashicorp/raft with its log in sled (raftstore), its state in a sled
// tree, over HTTP. See README.md to start a cluster of three on localhost.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sledgo/sled/examples/replicated-kv/kvnode"
)

func main() {
	id := flag.String("id", "", "this node's id, one of -cluster's (required)")
	dir := flag.String("dir", "", "data directory of this node (required)")
	cluster := flag.String("cluster", "", "every node, as id=raftAddr/httpAddr,... (required)")
	snapThreshold := flag.Uint64("snapshot-threshold", 0, "logs between snapshots (0 = raft's default, 8192)")
	trailing := flag.Uint64("trailing-logs", 0, "logs kept after a snapshot (0 = raft's default, 10240)")
	snapInterval := flag.Duration("snapshot-interval", 0, "how often to check for a snapshot (0 = raft's default, 2m)")
	level := flag.String("log-level", "info", "raft's log level (trace, debug, info, warn, error)")
	flag.Parse()
	if *id == "" || *dir == "" || *cluster == "" {
		flag.Usage()
		os.Exit(2)
	}
	peers, err := kvnode.ParseCluster(*cluster)
	if err != nil {
		log.Fatal(err)
	}
	n, err := kvnode.Start(kvnode.Config{
		ID: *id, Dir: *dir, Cluster: peers,
		SnapshotThreshold: *snapThreshold, TrailingLogs: *trailing, SnapshotInterval: *snapInterval,
		LogLevel: *level,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range peers {
		if p.ID == *id {
			fmt.Printf("node %s: raft on %s, HTTP on http://%s\n", *id, p.RaftAddr, p.HTTPAddr)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case err := <-done:
		if err != nil {
			log.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		log.Fatal("shutdown timed out")
	}
}
