package handlers

// place names where ip is, or "".
func (a *App) place(ip string) string {
	if a.cfg.Places == nil {
		return ""
	}
	return a.cfg.Places.Place(ip)
}
