package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.mau.fi/util/exhttp"
	"maunium.net/go/mautrix/federation"
	"maunium.net/go/mautrix/id"
)

// OpenIDVerifier checks the OpenID tokens Matrix clients give widgets: it asks the token's
// homeserver (/_matrix/federation/v1/openid/userinfo) whom it belongs to. The clinic's own
// homeserver is asked at its configured address; any other through federation resolution,
// which refuses private and loopback addresses, so a token cannot make the bridge call into
// the clinic's network.
type OpenIDVerifier struct {
	homeserverURL    string
	homeserverDomain string
	http             *http.Client
	// remote asks another homeserver; federation by default, replaceable in tests.
	remote func(ctx context.Context, serverName, token string) (id.UserID, error)
}

// NewOpenIDVerifier makes a verifier for the clinic's homeserver and the rest of Matrix.
func NewOpenIDVerifier(homeserverURL, homeserverDomain string) *OpenIDVerifier {
	fed := federation.NewClient("", nil, federation.NewInMemoryCache(), exhttp.ClientSettings{
		DialTimeout: 5 * time.Second, GlobalTimeout: 10 * time.Second,
	})
	v := &OpenIDVerifier{
		homeserverURL: homeserverURL, homeserverDomain: homeserverDomain,
		http: &http.Client{Timeout: 10 * time.Second},
	}
	v.remote = func(ctx context.Context, serverName, token string) (id.UserID, error) {
		resp, err := fed.GetOpenIDUserInfo(ctx, serverName, token)
		if err != nil {
			return "", err
		}
		return resp.Sub, nil
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
