//go:build !unix

package db

// LockServe does nothing where advisory file locks are not available.
func LockServe(path string) (release func(), err error) { return func() {}, nil }
