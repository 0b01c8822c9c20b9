package appservice

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// maxTransactionSize bounds a transaction body; homeservers send far less.
const maxTransactionSize = 32 << 20

// handler wraps mautrix's routes: the homeserver's token is checked in constant time before
// anything else (401 without a token, 403 with a wrong one, as the spec says), a body that is
// not a JSON object gets 400, and readiness also needs the database.
func (c *Connector) handler() http.Handler {
	hsToken := sha256.Sum256([]byte(c.cfg.AppService.HSToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_matrix/mau/ready":
			c.serveReady(w, r)
			return
		case strings.HasPrefix(r.URL.Path, "/_matrix/app/"):
			token, ok := bearer(r)
			if !ok {
				writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Missing homeserver token")
				return
			}
			given := sha256.Sum256([]byte(token))
			if subtle.ConstantTimeCompare(given[:], hsToken[:]) != 1 {
				c.probes.wrongToken()
				c.log.Warn().Str("path", r.URL.Path).Msg("Refused a request with a wrong homeserver token")
				writeError(w, http.StatusForbidden, "M_FORBIDDEN", "Wrong homeserver token")
				return
			}
			// mautrix reads the token from the header only; legacy homeservers send it in the query.
			r.Header.Set("Authorization", "Bearer "+token)
			if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") {
				r.Body = http.MaxBytesReader(w, r.Body, maxTransactionSize)
			}
		}
		c.AS.Router.ServeHTTP(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer "), true
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t, true
	}
	return "", false
}

func (c *Connector) serveReady(w http.ResponseWriter, r *http.Request) {
	if !c.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, "M_NOT_READY", "Starting")
		return
	}
	if err := c.db.RawDB.PingContext(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "M_NOT_READY", "Database unreachable")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errcode": code, "error": msg})
}
