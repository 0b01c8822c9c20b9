package appservice

import (
	"container/list"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"maunium.net/go/mautrix/federation"
	"maunium.net/go/mautrix/id"
)

// OpenIDVerifier checks the OpenID tokens Matrix clients give widgets: it asks the token's
// homeserver (/_matrix/federation/v1/openid/userinfo) whom it belongs to. The clinic's own
// homeserver is asked at its configured address; any other through federation resolution
// (fedResolver), every step of which refuses private, loopback and the bridge's own
// addresses, so a server name sent by anyone cannot make the bridge call into the clinic's
// network.
type OpenIDVerifier struct {
	homeserverURL    string
	homeserverDomain string
	http             *http.Client
	fed              *fedResolver
	// remote asks another homeserver; federation by default, replaceable in tests.
	remote func(ctx context.Context, serverName, token string) (id.UserID, error)
}

// NewOpenIDVerifier makes a verifier for the clinic's homeserver and the rest of Matrix. own
// are the bridge's listen addresses (host:port), never to be called through federation.
func NewOpenIDVerifier(homeserverURL, homeserverDomain string, own ...string) *OpenIDVerifier {
	v := &OpenIDVerifier{
		homeserverURL: homeserverURL, homeserverDomain: homeserverDomain,
		http: &http.Client{Timeout: 10 * time.Second},
		fed:  newFedResolver(own...),
	}
	v.remote = func(ctx context.Context, serverName, token string) (id.UserID, error) {
		user, err := v.fed.openIDUserInfo(ctx, serverName, token)
		return id.UserID(user), err
	}
	return v
}

// VerifyOpenID returns the user an OpenID token belongs to. The user's server must be the
// server the token claims to come from.
func (v *OpenIDVerifier) VerifyOpenID(ctx context.Context, token, serverName string) (string, error) {
	if _, _, ok := federation.ParseServerName(serverName); !ok {
		return "", fmt.Errorf("%q is not a server name", serverName)
	}
	var user id.UserID
	var err error
	if serverName == v.homeserverDomain {
		user, err = v.local(ctx, token)
	} else {
		user, err = v.remote(ctx, serverName, token)
	}
	if err != nil {
		return "", fmt.Errorf("asking %s about the token: %w", serverName, err)
	}
	_, server, err := user.Parse()
	if err != nil {
		return "", fmt.Errorf("the homeserver answered with %q, not a user ID", user)
	}
	if server != serverName {
		return "", fmt.Errorf("the token claims to come from %s but belongs to %s", serverName, user)
	}
	return user.String(), nil
}

// local asks the clinic's homeserver at its configured address (which may well be private).
func (v *OpenIDVerifier) local(ctx context.Context, token string) (id.UserID, error) {
	u := v.homeserverURL + "/_matrix/federation/v1/openid/userinfo?access_token=" + url.QueryEscape(token)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return "", errors.New("the homeserver did not answer")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var info federation.RespOpenIDUserInfo
	if err = json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("unreadable answer: %w", err)
	}
	return info.Sub, nil
}

const (
	fedDialTimeout    = 3 * time.Second
	fedRequestTimeout = 5 * time.Second
	fedSRVTimeout     = 2 * time.Second
	fedCacheSize      = 1000
	fedCacheTTL       = time.Hour
	fedFailureTTL     = time.Minute
	wellKnownMaxBytes = 4 << 10
)

// nonPublic are the ranges no homeserver of the open federation is in, beyond what netip's
// predicates know: a server name must never make the bridge call into the clinic's network,
// the cloud's metadata service or the machine itself.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: the IPv4 address inside is what is reached
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2002::/16"),       // 6to4, which embeds any IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::/128"),          // unspecified
	netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped (unmapped before the check)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// publicAddr reports whether an address is one a remote homeserver may have.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// fedResolver finds and calls other homeservers the way federation does (server name,
// .well-known, SRV, port 8448), and never reaches anything but a public address that is not
// the bridge's own: every step dials through the same filter, which checks the address
// actually connected to (after DNS, so a name that resolves differently the second time gains
// nothing). Redirects are refused, every step has a short timeout, and the cache is bounded.
type fedResolver struct {
	client *http.Client
	// own are the bridge's own addresses (its listeners and the machine's interfaces).
	own map[netip.Addr]bool
	// lookupSRV is net.DefaultResolver.LookupSRV.
	lookupSRV func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	cache     *fedCache
	now       func() time.Time

	// Tests only, never set from the config (see useTestServer).
	testAllow func(netip.Addr) bool
	testDial  func(addr string) string
}

// fedTarget is where a server name's federation API is: the base URL (its host is the Host
// header and the TLS name) and the address to connect to.
type fedTarget struct {
	base string
	dial string
}

type dialKey struct{}

// newFedResolver makes a resolver that also refuses the given listen addresses (host:port or
// host) and every address of this machine's interfaces.
func newFedResolver(own ...string) *fedResolver {
	r := &fedResolver{own: map[netip.Addr]bool{}, lookupSRV: net.DefaultResolver.LookupSRV, cache: newFedCache(fedCacheSize), now: time.Now}
	for _, o := range own {
		host := o
		if h, _, err := net.SplitHostPort(o); err == nil {
			host = h
		}
		if a, err := netip.ParseAddr(host); err == nil {
			r.own[a.Unmap()] = true
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				r.own[p.Addr().Unmap()] = true
			}
		}
	}
	transport := &http.Transport{
		DialContext:           r.dial,
		TLSHandshakeTimeout:   fedDialTimeout,
		ResponseHeaderTimeout: fedRequestTimeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		// A proxy from the environment would connect on our behalf, past the filter.
		Proxy: nil,
	}
	r.client = &http.Client{
		Transport: transport,
		Timeout:   fedRequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
	return r
}

// useTestServer is for tests only: allow lets addresses through the filter (a loopback address
// playing a public homeserver), dial rewrites dial addresses (to its port), and tlsConfig
// trusts its certificate. Nothing in the config reaches it.
func (r *fedResolver) useTestServer(allow func(netip.Addr) bool, dial func(string) string, tlsConfig *tls.Config) {
	r.testAllow, r.testDial = allow, dial
	r.client.Transport.(*http.Transport).TLSClientConfig = tlsConfig
}

// allowed is the filter, applied to the address a connection is about to be made to.
func (r *fedResolver) allowed(a netip.Addr) error {
	a = a.Unmap()
	if r.testAllow != nil && r.testAllow(a) {
		return nil
	}
	if !publicAddr(a) {
		return fmt.Errorf("%s is not a public address", a)
	}
	if r.own[a] {
		return fmt.Errorf("%s is the bridge's own address", a)
	}
	return nil
}

func (r *fedResolver) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("unreadable address %q", address)
	}
	return r.allowed(ap.Addr())
}

func (r *fedResolver) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := ctx.Value(dialKey{}).(string); ok {
		addr = to
	}
	if r.testDial != nil {
		addr = r.testDial(addr)
	}
	d := &net.Dialer{Timeout: fedDialTimeout, Control: r.control}
	return d.DialContext(ctx, network, addr)
}

// get fetches a URL through the filter, to the given dial address ("" for the URL's own),
// and reads at most limit bytes of a 200 answer.
func (r *fedResolver) get(ctx context.Context, rawURL, dialTo string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fedRequestTimeout)
	defer cancel()
	if dialTo != "" {
		ctx = context.WithValue(ctx, dialKey{}, dialTo)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, errors.New("bad request address")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		// The error names the URL, which may carry a token: say only what went wrong.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return nil, fmt.Errorf("no answer: %s", errorReason(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, errors.New("the answer was cut off")
	}
	if int64(len(body)) > limit {
		return nil, errors.New("the answer is too large")
	}
	return body, nil
}

// errorReason is a short reason without URLs (which may carry a token), for logs.
func errorReason(err error) string {
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "could not connect: " + opErr.Err.Error()
	case strings.Contains(err.Error(), "redirects are not followed"):
		return "redirected (not followed)"
	}
	return "request failed"
}

// resolve finds where a server name's federation API is (the Matrix server discovery).
func (r *fedResolver) resolve(ctx context.Context, serverName string) (fedTarget, error) {
	if t, err, ok := r.cache.get(serverName, r.now()); ok {
		return t, err
	}
	t, err := r.discover(ctx, serverName)
	ttl := fedCacheTTL
	if err != nil {
		ttl = fedFailureTTL
	}
	r.cache.put(serverName, t, err, r.now().Add(ttl))
	return t, err
}

func (r *fedResolver) discover(ctx context.Context, serverName string) (fedTarget, error) {
	host, port, ok := federation.ParseServerName(serverName)
	if !ok {
		return fedTarget{}, fmt.Errorf("%q is not a server name", serverName)
	}
	// 1 and 2: an IP literal, or a host with a port, is used as it is.
	if isIPLiteral(host) || port != 0 {
		return direct(host, port), nil
	}
	// 3: the server name may delegate with /.well-known/matrix/server.
	if body, err := r.get(ctx, "https://"+host+"/.well-known/matrix/server", "", wellKnownMaxBytes); err == nil {
		var wk struct {
			Server string `json:"m.server"`
		}
		if json.Unmarshal(body, &wk) == nil {
			if dHost, dPort, ok := federation.ParseServerName(wk.Server); ok {
				if isIPLiteral(dHost) || dPort != 0 {
					return direct(dHost, dPort), nil
				}
				host = dHost
			}
		}
	}
	// 3.3 to 6: SRV records of the (delegated) host, else port 8448. The Host header and the
	// certificate stay the host's; only the connection goes to the SRV target.
	if target, ok := r.srv(ctx, host); ok {
		return fedTarget{base: "https://" + host, dial: target}, nil
	}
	return direct(host, 0), nil
}

func direct(host string, port uint16) fedTarget {
	if port == 0 {
		port = 8448
	}
	hostPort := net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(int(port)))
	return fedTarget{base: "https://" + hostPort, dial: hostPort}
}

func isIPLiteral(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

func (r *fedResolver) srv(ctx context.Context, host string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, fedSRVTimeout)
	defer cancel()
	for _, service := range []string{"matrix-fed", "matrix"} {
		_, records, err := r.lookupSRV(ctx, service, "tcp", host)
		if err == nil && len(records) > 0 {
			rec := records[0]
			return net.JoinHostPort(strings.TrimRight(rec.Target, "."), strconv.Itoa(int(rec.Port))), true
		}
	}
	return "", false
}

// openIDUserInfo asks a homeserver of the federation whom an OpenID token belongs to.
func (r *fedResolver) openIDUserInfo(ctx context.Context, serverName, token string) (string, error) {
	t, err := r.resolve(ctx, serverName)
	if err != nil {
		return "", err
	}
	u := t.base + "/_matrix/federation/v1/openid/userinfo?access_token=" + url.QueryEscape(token)
	body, err := r.get(ctx, u, t.dial, 64<<10)
	if err != nil {
		return "", err
	}
	var info federation.RespOpenIDUserInfo
	if err = json.Unmarshal(body, &info); err != nil {
		return "", errors.New("unreadable answer")
	}
	return info.Sub.String(), nil
}

// fedCache remembers resolutions (failures for a shorter time), the least recently used
// forgotten first once it holds size names.
type fedCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *fedCacheEntry, most recent first
	byKey map[string]*list.Element
}

type fedCacheEntry struct {
	key     string
	target  fedTarget
	err     error
	expires time.Time
}

func newFedCache(size int) *fedCache {
	return &fedCache{size: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *fedCache) get(key string, now time.Time) (fedTarget, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return fedTarget{}, nil, false
	}
	e := el.Value.(*fedCacheEntry)
	if now.After(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return fedTarget{}, nil, false
	}
	c.order.MoveToFront(el)
	return e.target, e.err, true
}

func (c *fedCache) put(key string, t fedTarget, err error, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.Remove(el)
		delete(c.byKey, key)
	}
	for c.order.Len() >= c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*fedCacheEntry).key)
	}
	c.byKey[key] = c.order.PushFront(&fedCacheEntry{key: key, target: t, err: err, expires: expires})
}

func (c *fedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
