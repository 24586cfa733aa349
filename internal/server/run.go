package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sigtrail/sigtrail/internal/api"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/backend"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
	"github.com/sigtrail/sigtrail/internal/console"
	"github.com/sigtrail/sigtrail/internal/customdomain"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/portal"
	"github.com/sigtrail/sigtrail/internal/replay"
	"github.com/sigtrail/sigtrail/internal/sealing"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// Addrs are the addresses the server actually listens on (useful with port 0).
type Addrs struct {
	API    net.Addr
	Portal net.Addr
}

// Run starts sigtrail and serves until ctx ends, then shuts down gracefully.
// ready, when not nil, is called once both listeners accept connections.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(Addrs)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	target, err := backend.Parse(cfg.DataDir, cfg.DB)
	if err != nil {
		return err
	}
	var clk clock.Clock = clock.Real{}
	st, err := backend.Open(ctx, target, backend.Options{Server: true, Logger: log, CallTimeout: cfg.DBCallTimeout})
	if err != nil {
		return err
	}
	defer st.Close()
	// Secrets at rest: sealed with the operator's key file when one is given.
	if st, err = sealing.WrapFile(st, cfg.SecretKeyFile, log); err != nil {
		return err
	}
	if cfg.SecretKeyFile == "" {
		log.Warn("destination secrets and signing private keys are stored unencrypted; " +
			"to encrypt them, start with --secret-key-file FILE (or SIGTRAIL_SECRET_KEY_FILE), see docs/operations.md")
	}

	// Replicas compare instants each other wrote (leases, heartbeats,
	// lockouts, periodic claims), so they tell time by one clock: the
	// database's, read through this host's plus a measured offset.
	var dbClock *cluster.DBClock
	if src, ok := sealing.Inner(st).(cluster.TimeSource); ok {
		dbClock = cluster.NewDBClock(src, clk, log, nil)
		syncCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := dbClock.Sync(syncCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("reading the database's clock: %w", err)
		}
		clk = dbClock
	}

	if cfg.BootstrapToken != "" {
		if err := tenancy.Bootstrap(ctx, st, cfg.BootstrapToken, clk); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	} else {
		hintWithoutOrgs(ctx, st, log)
	}
	keys, err := signing.Open(ctx, st, clk, cfg.Retention)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	// One transparency log tree (and tile cache) for delivery's checkpoint
	// lines and the API's checkpoints and proofs.
	tree := tlog.NewTree(st)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if dbClock != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sigtrail_cluster_clock_offset_seconds",
			Help: "How far the database's clock is ahead of this host's (the replicas time leases by the database's).",
		}, func() float64 { return dbClock.Offset().Seconds() }))
	}

	// On PostgreSQL several replicas share the database: each webhook is
	// delivered by the one replica holding its lease, replay jobs likewise,
	// and the database's change feed tells every replica what the others
	// did. On SQLite this process holds the file alone and owns everything.
	feed, clustered := sealing.Inner(st).(store.ChangeFeed)
	replica := ""
	if clustered {
		replica = newReplicaID()
		log = log.With("replica", replica)
	}
	var coord *cluster.Coordinator
	renderer := audit.Renderer{Vendor: cfg.Vendor, Host: cfg.Host}
	dm, err := delivery.New(delivery.Config{
		MaxBatchLines:        cfg.MaxBatchLines,
		MaxBatchBytes:        cfg.MaxBatchBytes,
		InsecureDestinations: cfg.InsecureDestinations,
		Clustered:            clustered,
	}, delivery.Deps{Store: st, Signer: keys, Renderer: renderer, Clock: clk, Logger: log, Registerer: reg,
		OnLeaseLost: func(s store.StreamID) { coord.LeaseLost(s) },
		Checkpoints: tlog.Notary{Tree: tree, Signer: keys}})
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	if clustered {
		if coord, err = cluster.New(st, dm, cluster.Config{ReplicaID: replica, Clock: clk, Logger: log}); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
	}
	runner := replay.New(replay.Config{Retention: cfg.Retention, Replica: replica}, replay.Deps{Store: st, Sender: dm, Clock: clk, Logger: log})

	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen --addr: %w", err)
	}
	portalLn, err := net.Listen("tcp", cfg.PortalAddr)
	if err != nil {
		_ = apiLn.Close()
		return fmt.Errorf("listen --portal-addr: %w", err)
	}
	defer apiLn.Close()
	defer portalLn.Close()

	// Custom domains are served once their CNAME is verified; every
	// process checks its share of the due claims (Validate checked both).
	domainMode, _ := customdomain.ParseMode(cfg.CustomDomainCheck)
	dnsServers, _ := customdomain.ParseServers(cfg.CustomDomainDNSServers)
	domains := customdomain.New(customdomain.Config{Mode: domainMode, PortalDomainSuffix: cfg.PortalDomainSuffix},
		customdomain.Deps{Store: st, Resolver: customdomain.NewDNSResolver(dnsServers), Recorder: dm, Clock: clk, Logger: log})

	apiHandler := api.New(api.Config{
		InsecureDestinations:   cfg.InsecureDestinations,
		PortalDomainSuffix:     cfg.PortalDomainSuffix,
		CustomDomainsUnchecked: domainMode == customdomain.ModeNone,
		TrustedProxies:         cfg.TrustedProxies,
		Retention:              cfg.Retention,

		IngestMaxInflightBytes: cfg.IngestMaxInflightBytes,
		IngestBodyStallTimeout: cfg.IngestBodyStallTimeout,
		IngestMinBodyRate:      apiBodyRate(cfg.IngestMinBodyRate),
		UnauthAuditBudget:      api.UnauthAuditBudget{Every: cfg.UnauthAuditEvery, Burst: cfg.UnauthAuditBurst},
	}, api.Deps{
		Store:    st,
		Recorder: dm,
		JWKS:     keys,
		Signer:   keys,
		Tree:     tree,
		Renderer: renderer,
		Webhooks: dm,
		Replays:  runner,
		Clock:    clk,
		Logger:   log,
		Metrics:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),

		CustomDomains: domains,

		Registerer: reg,
	})
	mailer, err := newMailer(cfg, clk, log)
	if err != nil {
		return err
	}
	portalCfg := portal.Config{
		TrustedProxies: cfg.TrustedProxies,
		ListenPort:     portalLn.Addr().(*net.TCPAddr).Port,

		InsecureDestinations: cfg.InsecureDestinations,
	}
	if cfg.PortalHTTPS {
		portalCfg.SecureCookies = true
		portalCfg.BaseURL = func(_ store.Portal, host string) string { return "https://" + host }
	}
	// Portal mail is queued in the store and sent by the outbox's loop.
	mailDropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sigtrail_portal_mail_dropped_total",
		Help: "Dev Portal mails not queued because the outbox held its limit (in all, or to one address).",
	})
	reg.MustRegister(mailDropped)
	outbox := portal.NewOutbox(portal.OutboxConfig{Dropped: mailDropped.Inc}, st, mailer, clk, log)
	portalHandler := portal.New(portalCfg, portal.Deps{Store: st, Recorder: dm, Mailer: outbox, Clock: clk, Logger: log, Registerer: reg})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Every component reports once, when it returns. One that returns
	// before shutdown began has failed (even without an error), and takes
	// the whole server down with it rather than leaving it half alive.
	errc := make(chan error, 16)
	var stopping atomic.Bool
	components := 0
	run := func(name string, f func() error) {
		components++
		go func() {
			err := f()
			ending := stopping.Load() || ctx.Err() != nil
			normal := err == nil || errors.Is(err, context.Canceled) || errors.Is(err, http.ErrServerClosed)
			switch {
			case ending && normal:
				errc <- nil
			case normal:
				errc <- fmt.Errorf("%s stopped unexpectedly", name)
			default:
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	// The admin console answers its pages on the management listener and
	// passes everything else to the API, through which its pages act.
	consoleHandler := console.New(console.Config{TrustedProxies: cfg.TrustedProxies, SecureCookies: cfg.ConsoleHTTPS},
		console.Deps{Store: st, Recorder: dm, API: apiHandler, Keys: keys, Clock: clk, Logger: log})
	apiSrv := newHTTPServer(consoleHandler.Mount(apiHandler), log)
	portalSrv := newHTTPServer(portalHandler, log)
	run("delivery", func() error { return dm.Run(ctx) })
	if clustered {
		ch := newChanges(ctx, dm, coord, keys, runner, log)
		run("cluster", func() error { return coord.Run(ctx) })
		run("change feed", func() error { return feed.Listen(ctx, ch) })
		run("change sweep", func() error { return ch.run(ctx, clk) })
	}
	if dbClock != nil {
		run("database clock", func() error { return dbClock.Run(ctx, cluster.DefaultClockSyncEvery) })
	}
	run("replay", func() error { return runner.Run(ctx) })
	run("retention", func() error { return replay.RunRetention(ctx, st, clk, cfg.Retention, log) })
	run("keys", func() error { return keys.Maintain(ctx) })
	run("coordination prune", func() error { return pruneCoordination(ctx, st, clk, log) })
	run("developer tokens", func() error {
		portal.SweepTokens(ctx, st, clk, 10*time.Minute, log)
		return ctx.Err()
	})
	run("console sessions", func() error {
		console.SweepSessions(ctx, st, clk, 10*time.Minute, log)
		return ctx.Err()
	})
	run("mail outbox", func() error { return outbox.Run(ctx) })
	run("custom domain checks", func() error { return domains.Run(ctx) })
	run("api unaudited-request reports", func() error { return apiHandler.Run(ctx) })
	run("api listener", func() error { return apiSrv.Serve(apiLn) })
	run("portal listener", func() error { return portalSrv.Serve(portalLn) })

	log.Info("sigtrail serving", "api", apiLn.Addr().String(), "portals", portalLn.Addr().String(), "db", target.Describe(), "clustered", clustered)
	if ready != nil {
		ready(Addrs{API: apiLn.Addr(), Portal: portalLn.Addr()})
	}

	var firstErr error
	reported := 0
	select {
	case <-ctx.Done():
	case firstErr = <-errc:
		reported++
		if firstErr != nil {
			log.Error("component failed, shutting down", "err", firstErr)
		}
	}
	// Stop taking requests and finish those in flight (they append entries),
	// then stop the background work, and wait for all of it before the
	// deferred Close of the store.
	stopping.Store(true)
	shutdownCtx, done := context.WithTimeout(context.Background(), 15*time.Second)
	defer done()
	_ = apiSrv.Shutdown(shutdownCtx)
	_ = portalSrv.Shutdown(shutdownCtx)
	cancel()
	// The components get their own time: requests that used up the drain's
	// must not cut short the coordinator handing its leases over.
	componentsCtx, componentsDone := context.WithTimeout(context.Background(), 15*time.Second)
	defer componentsDone()
	for ; reported < components; reported++ {
		select {
		case err := <-errc:
			if err != nil && firstErr == nil {
				firstErr = err
			}
		case <-componentsCtx.Done():
			log.Warn("shutdown: some components did not stop in time", "waiting_for", components-reported)
			return firstErr
		}
	}
	log.Info("sigtrail stopped")
	return firstErr
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// readTimeout bounds reading one whole request; ingest bodies are paced
// more tightly within it (--ingest-body-stall-timeout, --ingest-min-body-rate).
const readTimeout = 60 * time.Second

// apiBodyRate maps --ingest-min-body-rate to api.Config, where 0 means the
// default and a negative rate none.
func apiBodyRate(r int64) int64 {
	if r == 0 {
		return -1
	}
	return r
}
