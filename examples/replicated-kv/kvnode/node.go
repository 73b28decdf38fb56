// Package kvnode is one node of the replicated key-value service: a
// hashicorp/raft node whose log and stable store is a raftstore.Store (or
// any raft.LogStore given in Config), whose state machine is a sled tree,
// and whose snapshots go to raft's FileSnapshotStore, served over HTTP.
//
// HTTP API (values are the raw request and response bodies):
//
//	PUT    /kv/{key}   write; 204 when committed and applied on the leader
//	DELETE /kv/{key}   delete; 204 likewise
//	GET    /kv/{key}   read this node's state; 404 when absent
//	GET    /status     JSON: id, state, leader, applied and last log index
//	GET    /dump       JSON object of every key (for tests; bounded)
//
// A write sent to a follower is answered 307 with the leader's URL, which
// Go's http.Client (and curl -L) follows; 503 when there is no leader.
// Reads are local: a follower may lag; read from the leader after a write
// for read-your-writes.
package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/sledgo/sled/raftstore"
)

// Peer is one member of the static cluster.
type Peer struct {
	ID       string // raft server id
	RaftAddr string // host:port of raft's TCP transport
	HTTPAddr string // host:port of the HTTP API
}

// ParseCluster parses "id=raftAddr/httpAddr,..." (e.g.
// "n1=127.0.0.1:7001/127.0.0.1:8001,n2=...").
func ParseCluster(s string) ([]Peer, error) {
	var peers []Peer
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		id, addrs, ok1 := strings.Cut(item, "=")
		raftAddr, httpAddr, ok2 := strings.Cut(addrs, "/")
		if !ok1 || !ok2 || id == "" || raftAddr == "" || httpAddr == "" {
			return nil, fmt.Errorf("kvnode: cluster entry %q is not id=raftAddr/httpAddr", item)
		}
		if seen[id] {
			return nil, fmt.Errorf("kvnode: cluster names %q twice", id)
		}
		seen[id] = true
		peers = append(peers, Peer{ID: id, RaftAddr: raftAddr, HTTPAddr: httpAddr})
	}
	return peers, nil
}

// Config describes a node to start.
type Config struct {
	ID      string // this node's id; must be in Cluster
	Dir     string // its data: raft/ (the log store), state/ (the FSM), snapshots/
	Cluster []Peer // every member, the same on every node (static bootstrap)

	// LogStore and StableStore replace the default raftstore.Store in
	// Dir/raft (the benchmarks compare stores this way). When set, the
	// caller closes them after Close.
	LogStore    raft.LogStore
	StableStore raft.StableStore

	// Raft settings; zero = raft's default.
	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotInterval  time.Duration
	// HeartbeatTimeout and ElectionTimeout; zero = 500ms (raft's default
	// is 1s; loopback clusters elect faster with less).
	HeartbeatTimeout time.Duration
	ElectionTimeout  time.Duration

	LogOutput io.Writer // raft's log; nil = os.Stderr
	LogLevel  string    // hclog level; "" = "info"
}

// Node is a running member of the cluster.
type Node struct {
	cfg       Config
	self      Peer
	raft      *raft.Raft
	fsm       *fsm
	store     *raftstore.Store // nil when Config gave the stores
	transport *raft.NetworkTransport
	httpLn    net.Listener
	http      *http.Server
	httpByID  map[raft.ServerID]string
}

// Start opens the node's stores, starts raft (bootstrapping the static
// cluster on first start) and serves the HTTP API.
func Start(cfg Config) (n *Node, err error) {
	n = &Node{cfg: cfg, httpByID: map[raft.ServerID]string{}}
	found := false
	for _, p := range cfg.Cluster {
		n.httpByID[raft.ServerID(p.ID)] = p.HTTPAddr
		if p.ID == cfg.ID {
			n.self, found = p, true
		}
	}
	if !found {
		return nil, fmt.Errorf("kvnode: id %q is not in the cluster", cfg.ID)
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	level := cfg.LogLevel
	if level == "" {
		level = "info"
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "raft-" + cfg.ID, Output: out, Level: hclog.LevelFromString(level)})

	if n.fsm, err = openFSM(filepath.Join(cfg.Dir, "state")); err != nil {
		return n, err
	}
	logs, stable := cfg.LogStore, cfg.StableStore
	if logs == nil || stable == nil {
		if n.store, err = raftstore.Open(filepath.Join(cfg.Dir, "raft")); err != nil {
			return n, fmt.Errorf("kvnode: %w", err)
		}
		logs, stable = n.store, n.store
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.Dir, "snapshots"), 2, logger)
	if err != nil {
		return n, fmt.Errorf("kvnode: snapshot store: %w", err)
	}
	adv, err := net.ResolveTCPAddr("tcp", n.self.RaftAddr)
	if err != nil {
		return n, fmt.Errorf("kvnode: raft address: %w", err)
	}
	if n.transport, err = raft.NewTCPTransportWithLogger(n.self.RaftAddr, adv, 3, 10*time.Second, logger); err != nil {
		return n, fmt.Errorf("kvnode: raft transport: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = logger
	rc.HeartbeatTimeout, rc.ElectionTimeout = 500*time.Millisecond, 500*time.Millisecond
	rc.LeaderLeaseTimeout = 250 * time.Millisecond
	if cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	}
	if cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.ElectionTimeout
	}
	rc.LeaderLeaseTimeout = min(rc.LeaderLeaseTimeout, rc.HeartbeatTimeout)
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}

	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return n, fmt.Errorf("kvnode: %w", err)
	}
	if !existing {
		var servers []raft.Server
		for _, p := range cfg.Cluster {
			servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
		}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, n.transport, raft.Configuration{Servers: servers}); err != nil {
			return n, fmt.Errorf("kvnode: bootstrap: %w", err)
		}
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, logs, stable, snaps, n.transport); err != nil {
		return n, fmt.Errorf("kvnode: starting raft: %w", err)
	}

	if n.httpLn, err = net.Listen("tcp", n.self.HTTPAddr); err != nil {
		return n, fmt.Errorf("kvnode: http: %w", err)
	}
	n.http = &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go n.http.Serve(n.httpLn)
	return n, nil
}

// Raft returns the node's raft instance.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Close stops the node: HTTP, raft, then the stores it opened.
func (n *Node) Close() error {
	var errs []error
	if n.http != nil {
		errs = append(errs, n.http.Close())
	} else if n.httpLn != nil {
		errs = append(errs, n.httpLn.Close())
	}
	if n.raft != nil {
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if n.transport != nil {
		errs = append(errs, n.transport.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.fsm != nil {
		errs = append(errs, n.fsm.db.Close())
	}
	return errors.Join(errs...)
}

// maxBodyBytes bounds a value written through the API.
const maxBodyBytes = 1 << 20

// maxDumpKeys bounds GET /dump.
const maxDumpKeys = 1 << 20

// Handler returns the HTTP API.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key...}", func(w http.ResponseWriter, r *http.Request) {
		v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		n.write(w, r, encodeCommand(opPut, []byte(r.PathValue("key")), v))
	})
	mux.HandleFunc("DELETE /kv/{key...}", func(w http.ResponseWriter, r *http.Request) {
		n.write(w, r, encodeCommand(opDelete, []byte(r.PathValue("key")), nil))
	})
	mux.HandleFunc("GET /kv/{key...}", func(w http.ResponseWriter, r *http.Request) {
		v, err := n.fsm.kv.Get(userKey([]byte(r.PathValue("key"))))
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case v == nil:
			http.Error(w, "not found", http.StatusNotFound)
		default:
			w.Write(v)
		}
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		addr, id := n.raft.LeaderWithID()
		applied, _ := n.fsm.applied()
		json.NewEncoder(w).Encode(Status{
			ID: n.cfg.ID, State: n.raft.State().String(), LeaderID: string(id), LeaderRaftAddr: string(addr),
			LeaderHTTPAddr: n.httpByID[id], AppliedIndex: applied, LastIndex: n.raft.LastIndex(),
		})
	})
	mux.HandleFunc("GET /dump", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]string{}
		it := n.fsm.kv.ScanPrefix(userPrefix)
		for it.Next() && len(out) < maxDumpKeys {
			out[string(it.Key()[len(userPrefix):])] = string(it.Value())
		}
		if err := it.Close(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(out)
	})
	return mux
}

// Status is the answer of GET /status.
type Status struct {
	ID             string `json:"id"`
	State          string `json:"state"` // Leader, Follower, Candidate, Shutdown
	LeaderID       string `json:"leader_id"`
	LeaderRaftAddr string `json:"leader_raft_addr"`
	LeaderHTTPAddr string `json:"leader_http_addr"`
	AppliedIndex   uint64 `json:"applied_index"` // last log applied to this node's state
	LastIndex      uint64 `json:"last_index"`    // last log in this node's log store
}

// applyTimeout bounds how long a write waits to commit.
const applyTimeout = 10 * time.Second

func (n *Node) write(w http.ResponseWriter, r *http.Request, cmd []byte) {
	if n.raft.State() != raft.Leader {
		_, id := n.raft.LeaderWithID()
		if addr := n.httpByID[id]; addr != "" && id != raft.ServerID(n.cfg.ID) {
			http.Redirect(w, r, "http://"+addr+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		http.Error(w, "no leader", http.StatusServiceUnavailable)
		return
	}
	f := n.raft.Apply(cmd, applyTimeout)
	if err := f.Error(); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrEnqueueTimeout) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), code)
		return
	}
	if err, ok := f.Response().(error); ok && err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
