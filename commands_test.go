package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/elsewhere-dev/elsewhere/db"
)

// TestCommandsBehaveAsGoToolsDo: -h and help exit 0 listing every command and flag; a
// missing argument prints the command's usage; bad values name the expected form.
func TestCommandsBehaveAsGoToolsDo(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "e.db")
	for _, asked := range [][]string{{"-h"}, {"-help"}, {"help"}, {"serve", "-h"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), asked, strings.NewReader(""), &out, &errOut); err != nil {
			t.Errorf("%v: %v, want no error (exit 0)", asked, err)
		}
		for _, want := range []string{"user add EMAIL", "sessions list EMAIL", "sessions revoke EMAIL", "sessions prune", "version", "serve",
			"-addr", "-db", "-base-url", "-trusted-proxies", "-session-idle", "-session-max-age", "-max-sessions", "-remember-for",
			"-confirm-window", "-signup", "-single-session", "-secret", "-secret-file", "-smtp-url", "-mail-from", "-geoip", "ELSEWHERE_"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v does not list %q:\n%s", asked, want, out.String())
			}
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"user", "add"}, nil, "usage: elsewhere user add EMAIL"},
		{[]string{"sessions", "list"}, nil, "usage: elsewhere sessions list EMAIL"},
		{[]string{"sessions"}, nil, "usage: elsewhere sessions list EMAIL | elsewhere sessions revoke EMAIL | elsewhere sessions prune"},
		{[]string{"frobnicate"}, nil, "elsewhere help"},
		{[]string{"-smtp-url", "localhost:25", "-addr", "127.0.0.1:0"}, nil, "want smtp://"},
		{[]string{"-smtp-url", "smtp://:25", "-addr", "127.0.0.1:0"}, nil, "want smtp://"},
		{[]string{"-session-idle", "2", "version"}, nil, "a duration such as 30m or 2h"},
		{[]string{"version"}, map[string]string{"ELSEWHERE_SESSION_IDLE": "2"}, "a duration such as 30m or 2h"},
		{[]string{"-session-idle", "4m", "-addr", "127.0.0.1:0"}, nil, "want at least 5m"},
		{[]string{"-session-idle", "30s", "-addr", "127.0.0.1:0"}, nil, "want at least 5m"},
		{[]string{"-base-url", "http://host/sub?x=1", "-addr", "127.0.0.1:0"}, nil, "query"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			// Bounded: a value wrongly taken would start serving; then it stops and says nil.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"-db", dbPath}, tc.args...), strings.NewReader(""), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v %v: %v, want an error saying %q", tc.env, tc.args, err, tc.want)
			}
		})
	}
}

// TestSecondServeOnOneFileIsRefused: a second server on the same SQLite file stops at
// start, naming the first one's pid; once the first is gone the file is free again.
func TestSecondServeOnOneFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	// flock locks belong to an open file, not a process: a lock held here stands for the
	// first server as well as another process's would.
	release, err := db.LockServe(path)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // if it wrongly serves
	defer cancel()
	err = run(ctx, []string{"serve", "-db", path, "-addr", "127.0.0.1:0"}, strings.NewReader(""), &out, &errOut)
	if want := fmt.Sprintf("in use by another elsewhere serve (pid %d)", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a second serve on one file: %v, want %q", err, want)
	}
	release()
	again, err := db.LockServe(path)
	if err != nil {
		t.Fatalf("the lock once released: %v", err)
	}
	again()
}

// TestVersionFromTheBuild: a plain go build reports the commit it was built from, its
// time, and whether the tree had uncommitted changes; -ldflags -X main.version wins.
func TestVersionFromTheBuild(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "9d083afc0ffee1234567890abcdef"},
		{Key: "vcs.time", Value: "2026-12-04T13:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionFrom("dev", bi, true); got != "9d083afc0ffe-dirty 2026-12-04T13:00:00Z" {
		t.Errorf("from VCS information: %q", got)
	}
	if got := versionFrom("dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true); got != "v1.2.3" {
		t.Errorf("from the module version: %q", got)
	}
	if got := versionFrom("v9", bi, true); got != "v9" {
		t.Errorf("-ldflags -X main.version=v9: %q", got)
	}
	if got := versionFrom("dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); !strings.Contains(got, "without VCS information") {
		t.Errorf("no VCS information: %q", got)
	}
}
