package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTP wraps the public web server's mux: each request's duration is recorded under the
// route pattern the mux matched (r.Pattern, such as "GET /g/{token}"), never the path, which
// carries tokens and session IDs. WebSocket upgrades are left out: their time is the call's.
func (m *Metrics) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		// The mux sets the pattern on the request it was given, which is r as long as
		// nothing between here and the mux replaced it.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		} else if _, path, ok := strings.Cut(route, " "); ok {
			route = path // the method is a label of its own
		}
		m.httpDuration.WithLabelValues(route, method(r.Method), sw.class()).Observe(time.Since(start).Seconds())
	})
}

// MatrixTransactions wraps the appservice listener: the time to take in each transaction the
// homeserver pushes (PUT /_matrix/app/v1/transactions/{txnId}).
func (m *Metrics) MatrixTransactions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		m.matrixTxn.WithLabelValues(sw.class()).Observe(time.Since(start).Seconds())
	})
}

// method keeps the method label to the methods the bridge serves.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "other"
}

// StatusWriter remembers the status code of an answer (for metrics, and the rush bench's
// proxy); Unwrap lets http.ResponseController and WebSocket libraries reach the connection
// underneath.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps streaming answers streaming.
func (w *StatusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Code is the status code answered (200 when nothing was written).
func (w *StatusWriter) Code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// class is the status code's class: "2xx", "4xx"... (200 when nothing was written).
func (w *StatusWriter) class() string {
	return strconv.Itoa(w.Code()/100) + "xx"
}
