package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is set at build time:
//
//	go build -ldflags "-X main.Version=v1.2.3" ./cmd/slapipe
var Version = "dev"

// version describes the binary: its version, then what the Go toolchain
// recorded (module version when installed with go install, VCS revision).
func version() string {
	parts := []string{runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+dirty"
				}
			}
		}
		if rev != "" {
			parts = append(parts, "revision "+rev[:min(12, len(rev))]+modified)
		}
	}
	return fmt.Sprintf("%s (%s)", v, strings.Join(parts, ", "))
}
