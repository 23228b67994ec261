package handlers

// SetMaxHeld sets how many refused answers are held at once, until the test ends.
func SetMaxHeld(n int) (restore func()) {
	old := maxHeld
	maxHeld = n
	return func() { maxHeld = old }
}
