package db

// StallListener makes d's listener stop handling messages, as a listener that has fallen
// behind would, until the function it returns is called.
func StallListener(d *DB) (resume func()) {
	d.pg.gate.Lock()
	return d.pg.gate.Unlock
}
