package appservice

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// internalServer is a TLS server on 127.0.0.1 standing for anything inside the clinic's
// network; it counts the connections it accepts.
func internalServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": "@admin:internal", "m.server": "internal"})
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// publicServer plays every homeserver named *.test, on 127.0.0.2 (which the resolver is told
// to treat as public): its answers point at internal, by delegation, SRV or redirect.
func publicServer(t *testing.T, internal string) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		if host == "" {
			host = r.Host
		}
		switch {
		case r.URL.Path == "/.well-known/matrix/server" && host == "delegate-internal.test":
			_ = json.NewEncoder(w).Encode(map[string]string{"m.server": internal})
		case r.URL.Path == "/.well-known/matrix/server" && host == "redirect.test":
			http.Redirect(w, r, "https://"+internal+"/.well-known/matrix/server", http.StatusFound)
		case r.URL.Path == "/.well-known/matrix/server" && host == "legit.test":
			_ = json.NewEncoder(w).Encode(map[string]string{"m.server": "matrix.legit.test:8448"})
		case r.URL.Path == "/_matrix/federation/v1/openid/userinfo" && host == "redirect-final.test":
			http.Redirect(w, r, "https://"+internal+"/_matrix/federation/v1/openid/userinfo?"+r.URL.RawQuery, http.StatusFound)
		case r.URL.Path == "/_matrix/federation/v1/openid/userinfo" && host == "matrix.legit.test" && r.URL.Query().Get("access_token") == "good":
			_ = json.NewEncoder(w).Encode(map[string]string{"sub": "@jane:legit.test"})
		default:
			http.NotFound(w, r)
		}
	}))
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// testVerifier verifies tokens of the clinic's homeserver clinic.test, and of the federation,
// where *.test names reach the public test server.
func testVerifier(public *httptest.Server, internal string) *OpenIDVerifier {
	v := NewOpenIDVerifier("http://127.0.0.1:1", "clinic.test")
	publicAddr := public.Listener.Addr().String()
	v.fed.useTestServer(
		func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.2") },
		func(addr string) string {
			if host, _, _ := net.SplitHostPort(addr); strings.HasSuffix(host, ".test") {
				return publicAddr
			}
			return addr
		},
		&tls.Config{InsecureSkipVerify: true},
	)
	v.fed.lookupSRV = func(_ context.Context, service, _, name string) (string, []*net.SRV, error) {
		if name == "srv-internal.test" && service == "matrix-fed" {
			host, port, _ := net.SplitHostPort(internal)
			var p uint16
			fmt.Sscan(port, &p)
			return "", []*net.SRV{{Target: host + ".", Port: p}}, nil
		}
		return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return v
}

func TestOpenIDResolutionNeverReachesInternalAddresses(t *testing.T) {
	internal, conns := internalServer(t)
	internalAddr := internal.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(internalAddr)
	public := publicServer(t, internalAddr)
	v := testVerifier(public, internalAddr)

	for _, name := range []string{
		internalAddr,             // an IP literal
		"localhost:" + port,      // a name that resolves to loopback
		"[::1]:" + port,          // IPv6 loopback
		"localhost",              // .well-known and then port 8448 on loopback
		"delegate-internal.test", // .well-known delegating to the internal address
		"redirect.test",          // .well-known redirecting there
		"redirect-final.test",    // the userinfo request redirecting there
		"srv-internal.test",      // an SRV record pointing there
		"169.254.169.254:80",     // a cloud metadata service
		"100.64.0.1:" + port,     // carrier-grade NAT
		"10.0.0.1:" + port,       // a private network
	} {
		if user, err := v.VerifyOpenID(context.Background(), "token", name); err == nil {
			t.Errorf("%s: a token was accepted as %s", name, user)
		} else if strings.Contains(err.Error(), "access_token=") {
			t.Errorf("%s: the error carries the token: %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the internal server accepted %d connections from OpenID resolution", n)
	}
	// The legitimate path works: delegation, then the delegated host's userinfo.
	if user, err := v.VerifyOpenID(context.Background(), "good", "legit.test"); err != nil || user != "@jane:legit.test" {
		t.Errorf("a legitimate token: %q, %v", user, err)
	}
}

func TestDialerRefusesNonPublicAddresses(t *testing.T) {
	r := newFedResolver("203.0.113.10:29341")
	for _, a := range []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1",
		"fc00::1", "fd12::1", "100.64.0.1", "100.127.255.254", "224.0.0.1", "ff02::1", "0.0.0.0", "::", "255.255.255.255",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1", "198.18.0.1", "192.0.0.8",
		"203.0.113.10", // the bridge's own listen address
	} {
		if err := r.allowed(netip.MustParseAddr(a)); err == nil {
			t.Errorf("%s is let through", a)
		}
	}
	for _, a := range []string{"1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"} {
		if err := r.allowed(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s is refused: %v", a, err)
		}
	}
	// The filter applies to the address actually dialled, whatever name led there.
	internal, conns := internalServer(t)
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())
	for _, addr := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		if conn, err := r.dial(context.Background(), "tcp", addr); err == nil {
			conn.Close()
			t.Errorf("dialled %s", addr)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the internal server accepted %d connections", n)
	}
}

func TestOpenIDResolutionCacheIsBounded(t *testing.T) {
	r := newFedResolver()
	for i := range 3 * fedCacheSize / 2 {
		if _, err := r.resolve(context.Background(), fmt.Sprintf("h%d.example.org:8448", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.cache.len(); n != fedCacheSize {
		t.Errorf("the cache holds %d names after %d, want at most %d", n, 3*fedCacheSize/2, fedCacheSize)
	}
	if _, _, ok := r.cache.get(fmt.Sprintf("h%d.example.org:8448", 3*fedCacheSize/2-1), r.now()); !ok {
		t.Error("the most recent name was forgotten")
	}
	if _, _, ok := r.cache.get("h0.example.org:8448", r.now()); ok {
		t.Error("the oldest name was kept")
	}
}
