package handlers

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elsewhere-dev/elsewhere/db"
	"github.com/elsewhere-dev/elsewhere/models"
)

// metrics are the numbers an operator watches, registered on Config.Metrics. Every
// label takes its value from a small fixed set (a result, a kind, a route pattern):
// never an email, an address, a user id or a token. A nil *metrics counts nothing, so
// an app without a registerer pays one nil check per count.
type metrics struct {
	signIns       *prometheus.CounterVec // by result: succeeded, failed, refused
	confirmations *prometheus.CounterVec // by result: succeeded, failed, refused
	events        *prometheus.CounterVec // security events, by kind
	revocations   *prometheus.CounterVec // devices signed out, by kind
	mail          *prometheus.CounterVec // by outcome: queued, sent, failed
	dbErrors      *prometheus.CounterVec // by kind: busy, timeout, other
	latency       *prometheus.HistogramVec
	streams       atomic.Int64 // live streams open
}

// Results and outcomes, the values of the result and outcome labels.
const (
	resultSucceeded = "succeeded"
	resultFailed    = "failed"
	resultRefused   = "refused" // by a rate limit or a lock, unchecked
)

// revocationKinds names, for each security event that signs devices out, the kind of
// revocation it counts as. Events not listed sign nothing out.
var revocationKinds = map[models.EventKind]string{
	models.EventSignedOut:        "sign-out",
	models.EventSessionRevoked:   "one",
	models.EventOthersRevoked:    "others",
	models.EventDeviceLost:       "lost",
	models.EventOperatorRevoked:  "operator",
	models.EventPasswordReset:    "take-back",
	models.EventAccountRecovered: "take-back",
	models.EventPasswordChanged:  "password",
	models.EventGuessedOut:       "guessed-out",
	models.EventSessionLimit:     "cap",
}

// unmatchedRoute is the route label of requests no route matched (their paths are
// whatever a client sent, and a mailed link's path holds its token).
const unmatchedRoute = "unmatched"

// newMetrics registers the app's metrics on reg; nil gives none.
func newMetrics(reg prometheus.Registerer, a *App) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_sign_ins_total",
			Help: "Sign-ins by result: succeeded, failed (wrong email or password), refused (by a rate limit, unchecked)."}, []string{"result"}),
		confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_confirmations_total",
			Help: "Password confirmations of an action by result: succeeded, failed (wrong password), refused (confirmations locked)."}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_security_events_total",
			Help: "Security events recorded, by kind (locked-out and guessed-out are the confirmation locks)."}, []string{"kind"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_revocations_total",
			Help: "Sign-outs by kind, one per action (signing five other devices out counts once; expired counts sessions): " +
				"sign-out, one, others, lost, operator, take-back, password, guessed-out, cap, expired."}, []string{"kind"}),
		mail: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_mail_total",
			Help: "Mails by outcome: queued, sent, failed (a try that failed; it is tried again)."}, []string{"outcome"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "elsewhere_database_errors_total",
			Help: "Database errors, in requests and in the background, by kind: busy, timeout, other."}, []string{"kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "elsewhere_http_request_duration_seconds",
			Help:    "Time to answer a request, by route pattern (unmatched for none), method and status class; live streams count their whole life.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method", "code"}),
	}
	for _, r := range []string{resultSucceeded, resultFailed, resultRefused} {
		m.signIns.WithLabelValues(r)
		m.confirmations.WithLabelValues(r)
	}
	for _, o := range []string{"queued", "sent", "failed"} {
		m.mail.WithLabelValues(o)
	}
	streams := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "elsewhere_live_streams_open",
		Help: "Live streams (/account/events) open on this app server."}, func() float64 { return float64(m.streams.Load()) })
	// How this server's memory fares against the other servers' writes (PostgreSQL;
	// db/coherence.go): a lease that keeps lapsing means a listener that falls behind,
	// and waits that time out mean a server gone without a word.
	leased := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "elsewhere_db_answering_from_memory",
		Help: "1 while this app server's lease lets it answer from memory (PostgreSQL; 1 on SQLite while the change stamp can be read)."},
		func() float64 {
			if _, ok := a.db.Remembering(); ok {
				return 1
			}
			return 0
		})
	waits := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "elsewhere_db_change_waits_total",
		Help: "Commits that waited for every app server to hear of them (PostgreSQL)."},
		func() float64 { w, _ := a.db.Coherence(); return float64(w) })
	waitedOut := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "elsewhere_db_change_waits_timed_out_total",
		Help: "Commits that waited a whole lease out because an app server did not acknowledge them (PostgreSQL)."},
		func() float64 { _, t := a.db.Coherence(); return float64(t) })
	reads := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "elsewhere_db_reads_total",
		Help: "Statements sent through the read pool (PostgreSQL)."},
		func() float64 { return float64(a.db.Reads()) })
	held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "elsewhere_refused_answers_held",
		Help: "Answers refused by a sign-in limit being held before they leave (RefusedPause): a guessing flood in progress."},
		func() float64 { return float64(len(a.held)) })
	for _, c := range []prometheus.Collector{m.signIns, m.confirmations, m.events, m.revocations, m.mail, m.dbErrors,
		m.latency, streams, outboxCollector{a}, leased, waits, waitedOut, reads, held} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) signIn(result string) {
	if m != nil {
		m.signIns.WithLabelValues(result).Inc()
	}
}

func (m *metrics) confirmation(result string) {
	if m != nil {
		m.confirmations.WithLabelValues(result).Inc()
	}
}

// event counts a security event, and the devices it signed out.
func (m *metrics) event(ev models.Event) {
	if m == nil || ev.Kind == "" {
		return
	}
	m.events.WithLabelValues(string(ev.Kind)).Inc()
	if kind, ok := revocationKinds[ev.Kind]; ok {
		m.revocations.WithLabelValues(kind).Inc()
	}
}

// expired counts sessions the sweeper deleted for having ended, one by one.
func (m *metrics) expired(n int) {
	if m != nil && n > 0 {
		m.revocations.WithLabelValues("expired").Add(float64(n))
	}
}

func (m *metrics) mailed(outcome string, n int) {
	if m != nil && n > 0 {
		m.mail.WithLabelValues(outcome).Add(float64(n))
	}
}

// dbError counts a database error (nil, and a client that went away, are none).
func (m *metrics) dbError(err error) {
	if m == nil || err == nil || errors.Is(err, context.Canceled) {
		return
	}
	kind := "other"
	switch {
	case db.IsBusy(err):
		kind = "busy"
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	}
	m.dbErrors.WithLabelValues(kind).Inc()
}

// streamOpened counts a live stream open until the returned func is called.
func (m *metrics) streamOpened() func() {
	if m == nil {
		return func() {}
	}
	m.streams.Add(1)
	return func() { m.streams.Add(-1) }
}

// observe is the first middleware of every route: it times the request under its route
// pattern (gin's FullPath, "/account/sessions/:id/revoke"), never its path.
func (a *App) observe(c *gin.Context) {
	m := a.metrics
	if m == nil {
		c.Next()
		return
	}
	start := time.Now()
	c.Next()
	route, method := c.FullPath(), c.Request.Method
	if route == "" {
		route, method = unmatchedRoute, "other" // an unrouted method is whatever was sent
	}
	code := strconv.Itoa(c.Writer.Status()/100) + "xx"
	m.latency.WithLabelValues(route, method, code).Observe(time.Since(start).Seconds())
}

// outboxCollector reads the outbox's backlog at each scrape: how many mails wait to be
// sent and how long the oldest has waited, the same on every app server.
type outboxCollector struct{ a *App }

var (
	outboxWaiting = prometheus.NewDesc("elsewhere_mail_queue_length", "Mails in the outbox not yet sent (nor given up).", nil, nil)
	outboxOldest  = prometheus.NewDesc("elsewhere_mail_queue_oldest_age_seconds",
		"How long the oldest mail not yet sent has been in the outbox (0 when none).", nil, nil)
)

func (o outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxWaiting
	ch <- outboxOldest
}

func (o outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := o.a.mail.Backlog(ctx)
	if err != nil {
		o.a.metrics.dbError(err)
		ch <- prometheus.NewInvalidMetric(outboxWaiting, err)
		return
	}
	age := 0.0
	if n > 0 {
		age = max(o.a.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxWaiting, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxOldest, prometheus.GaugeValue, age)
}
