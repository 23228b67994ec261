//go:build unix

package db

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesAFIFO: -db naming a FIFO is refused at once, not by hanging in open.
func TestOpenRefusesAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.db")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("make a FIFO: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		d, err := Open(context.Background(), path)
		if err == nil {
			d.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO as the database hangs")
	}
}
