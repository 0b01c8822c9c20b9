package main

import "runtime/debug"

// Version and Commit are set at build time (the Makefile passes
// -ldflags "-X main.Version=... -X main.Commit=..."). A plain `go build` in a git checkout
// still knows its commit: Go records it in the binary (vcs.revision).
var (
	Version = "dev"
	Commit  = ""
)

// buildVersion is the running version and commit, "unknown" for a commit nobody recorded.
func buildVersion() (version, commit string) {
	version, commit = Version, Commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, orUnknown(commit)
	}
	if version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version // go install ...@v1.2.3
	}
	if commit == "" {
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if commit != "" && modified {
			commit += "-dirty"
		}
	}
	return version, orUnknown(commit)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
