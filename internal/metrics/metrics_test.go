package metrics

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every query of the Grafana dashboard names metrics the bridge describes: a renamed metric
// breaks this test, not the operator's dashboard.
func TestDashboardUsesRegisteredNames(t *testing.T) {
	names := New(Options{}).Names()
	for _, want := range []string{"telehealth_sessions", "telehealth_lobby_knock_to_admit_seconds", "go_goroutines", "process_resident_memory_bytes"} {
		if !slices.Contains(names, want) {
			t.Fatalf("Names() lacks %s: %v", want, names)
		}
	}
	data, err := os.ReadFile("../../docs/grafana/telehealth-bridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err = json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	metricName := regexp.MustCompile(`\b(?:telehealth|go|process)_[a-zA-Z0-9_]+`)
	used := map[string]bool{}
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			exprs++
			found := metricName.FindAllString(target.Expr, -1)
			if len(found) == 0 {
				t.Errorf("panel %q: %q names no metric", p.Title, target.Expr)
			}
			for _, name := range found {
				base := name
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(names, b) {
						base = b
					}
				}
				if !slices.Contains(names, base) {
					t.Errorf("panel %q: %s is not a metric of the bridge", p.Title, name)
				}
				used[base] = true
			}
		}
	}
	// And the dashboard shows every metric of the bridge's own.
	for _, name := range names {
		if strings.HasPrefix(name, Namespace+"_") && !used[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
	t.Logf("%d queries over %d metrics", exprs, len(used))
}

// docs/operations.md describes every metric of the bridge's own.
func TestOperationsDocNamesEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range New(Options{}).Names() {
		if strings.HasPrefix(name, Namespace+"_") && !strings.Contains(string(doc), "`"+name) {
			t.Errorf("docs/operations.md does not describe %s", name)
		}
	}
}

// The web server's latency is labelled by the route pattern the mux matched, never by the
// path (which carries tokens); a path no route matches is "unmatched".
func TestHTTPLabelsByPattern(t *testing.T) {
	m := New(Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /g/{token}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "page") })
	mux.HandleFunc("POST /api/thing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	srv := httptest.NewServer(m.HTTP(mux))
	defer srv.Close()
	for _, req := range []struct{ method, path string }{
		{"GET", "/g/secret-token-1"}, {"GET", "/g/secret-token-2"}, {"POST", "/api/thing"}, {"GET", "/nowhere/secret-path"}, {"BREW", "/g/x"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`telehealth_http_request_duration_seconds_count{code="2xx",method="GET",route="/g/{token}"} 2`,
		`telehealth_http_request_duration_seconds_count{code="5xx",method="POST",route="/api/thing"} 1`,
		`telehealth_http_request_duration_seconds_count{code="4xx",method="GET",route="unmatched"} 1`,
		`telehealth_http_request_duration_seconds_count{code="4xx",method="other",route="unmatched"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(text, "secret") {
		t.Error("a path is in the metrics")
	}
}

// The metrics listener serves GET /metrics and nothing else.
func TestMetricsListenerServesOnlyMetrics(t *testing.T) {
	m := New(Options{})
	if err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer m.Stop(t.Context())
	base := "http://" + m.Addr().String()
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/metrics", 200}, {"POST", "/metrics", 405}, {"GET", "/", 404}, {"GET", "/debug/pprof/", 404}, {"GET", "/panel", 404},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want == 200 && !strings.Contains(string(body), "telehealth_build_info") {
			t.Errorf("GET /metrics without the metrics:\n%s", body)
		}
	}
}

// The knock's stages are scraped under their names, each present before its first knock (the
// rush benchmark reads them by name).
func TestKnockHandlingStages(t *testing.T) {
	m := New(Options{})
	m.KnockHandled("web_stored", 30*time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`telehealth_knock_handling_seconds_count{stage="web_stored"} 1`,
		`telehealth_knock_handling_seconds_bucket{stage="web_stored",le="0.05"} 1`,
		`telehealth_knock_handling_seconds_count{stage="matrix_stored"} 0`,
		`telehealth_knock_handling_seconds_count{stage="web_answered"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}
