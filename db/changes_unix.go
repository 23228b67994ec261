//go:build unix

package db

import (
	"os"
	"syscall"
)

// mapHeader maps the start of the WAL index read-only and shared, as SQLite itself maps
// it, so reading the header costs no system call; nil when it cannot.
func mapHeader(f *os.File) []byte {
	b, err := syscall.Mmap(int(f.Fd()), 0, 2*walHeader, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

func unmapHeader(b []byte) error {
	if b == nil {
		return nil
	}
	return syscall.Munmap(b)
}
