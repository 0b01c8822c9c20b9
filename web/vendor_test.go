package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The call page's LiveKit transport is livekit-client as npm publishes it, embedded in the
// binary with its licence: the version web/package.json pins is the one SHA256SUMS names and
// the one the file itself says it is, and the files are the ones SHA256SUMS records (a hand
// edit or a half-done upgrade fails here; scripts/vendor-livekit-client.sh redoes it).
func TestVendoredLiveKitClient(t *testing.T) {
	data, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err = json.Unmarshal(data, &pkg); err != nil {
		t.Fatal(err)
	}
	version := pkg.Dependencies["livekit-client"]
	if version == "" {
		t.Fatal("web/package.json pins no livekit-client")
	}
	const dir = "assets/vendor/livekit-client/"
	read := func(name string) []byte {
		t.Helper()
		b, err := assets.ReadFile(dir + name) // what the binary embeds
		if err != nil {
			t.Fatalf("%s is not embedded: %v", name, err)
		}
		return b
	}
	sums := string(read("SHA256SUMS"))
	if first, _, _ := strings.Cut(sums, "\n"); !strings.Contains(first, "livekit-client "+version+" ") {
		t.Errorf("SHA256SUMS is for %q, web/package.json pins %s", first, version)
	}
	for _, name := range []string{"livekit-client.umd.js", "LICENSE"} {
		sum := sha256.Sum256(read(name))
		if line := hex.EncodeToString(sum[:]) + "  " + name; !strings.Contains(sums, line+"\n") {
			t.Errorf("%s is not the file the script vendored (no %q in SHA256SUMS)", name, line)
		}
	}
	// The SDK's own version constant (what it sends the server as its version).
	if js := string(read("livekit-client.umd.js")); !strings.Contains(js, `="`+version+`"`) || !strings.Contains(js, "LivekitClient") {
		t.Errorf("livekit-client.umd.js does not say it is version %s", version)
	}
	if lic := string(read("LICENSE")); !strings.Contains(lic, "Apache License") || !strings.Contains(lic, "Version 2.0") {
		t.Error("the vendored LICENSE is not livekit-client's Apache 2.0 licence")
	}

	// Served beside the pages' own scripts, as JavaScript, with the licence next to it.
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(static))
	for path, typ := range map[string]string{
		"/assets/vendor/livekit-client/livekit-client.umd.js": "text/javascript",
		"/assets/vendor/livekit-client/LICENSE":               "text/plain",
	} {
		rec := httptest.NewRecorder()
		files.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), typ) {
			t.Errorf("%s: HTTP %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}
