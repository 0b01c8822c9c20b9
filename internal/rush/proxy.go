// Package rush measures the morning rush (issue 19): many web-link guests knocking at once on
// sessions of several clinicians, through the whole bridge, a real Dendrite and PostgreSQL.
// BenchmarkMorningRush (make bench) drives it; this file holds the counting proxy it puts
// between the bridge and Dendrite, so that the homeserver's share of each step (and the
// ghosts' joins) can be told from the bridge's.
package rush

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/metrics"
)

// Call is one request the bridge made to the homeserver.
type Call struct {
	// Endpoint is the kind of call: register, profile, knock (POST /knock), member (PUT of an
	// m.room.member state event: how the bridge knocks where /knock is missing), invite, join,
	// send, state (other state events), members, leave, kick or other.
	Endpoint string
	// User is the user the appservice acted as (the user_id query parameter), if any.
	User   string
	Status int
	// Took is the homeserver's time for it, from the proxy receiving the request to the
	// answer's last byte.
	Took time.Duration
}

// Proxy is a reverse proxy in front of the homeserver that records every call through it.
type Proxy struct {
	// URL is the proxy's address, to give the bridge as its homeserver's.
	URL string

	srv *http.Server
	mu  sync.Mutex
	log []Call
}

// StartProxy serves a proxy to target on a free loopback port until Close.
func StartProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// A pool as large as a rush needs: the default two idle connections per host would make
	// the proxy open connections the bridge itself keeps, adding time that is neither's.
	rp.Transport = &http.Transport{
		Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns: 500, MaxIdleConnsPerHost: 500, IdleConnTimeout: time.Minute,
	}
	rp.FlushInterval = -1 // streaming answers (a sync) stream
	p := &Proxy{URL: "http://" + l.Addr().String()}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &metrics.StatusWriter{ResponseWriter: w}
		rp.ServeHTTP(sw, r)
		c := Call{Endpoint: Endpoint(r.Method, r.URL.Path), User: r.URL.Query().Get("user_id"), Status: sw.Code(), Took: time.Since(start)}
		p.mu.Lock()
		p.log = append(p.log, c)
		p.mu.Unlock()
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = p.srv.Close()
	}
}

// Reset forgets the calls recorded so far (the set-up's), so that Calls is the measure's.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

// Calls returns the calls recorded since the start or the last Reset.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

var endpoints = []struct {
	name   string
	method string
	path   *regexp.Regexp
}{
	{"register", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/register$`)},
	{"profile", "", regexp.MustCompile(`^/_matrix/client/[^/]+/profile/`)},
	{"knock", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/knock/`)},
	{"invite", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/invite$`)},
	{"join", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/(join/[^/]+|rooms/[^/]+/join)$`)},
	{"leave", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/leave$`)},
	{"kick", http.MethodPost, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/kick$`)},
	{"member", http.MethodPut, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/state/m\.room\.member/`)},
	{"send", http.MethodPut, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/send/`)},
	{"state", "", regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/state`)},
	{"members", http.MethodGet, regexp.MustCompile(`^/_matrix/client/[^/]+/rooms/[^/]+/(joined_)?members$`)},
}

// Endpoint names the kind of a client-server API call from its method and path.
func Endpoint(method, path string) string {
	for _, e := range endpoints {
		if (e.method == "" || e.method == method) && e.path.MatchString(path) {
			return e.name
		}
	}
	return "other"
}
