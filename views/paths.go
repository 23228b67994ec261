package views

import "context"

// site is what every page of one mount shares: its mount point, and whether passkeys
// can be used there (the base URL names a domain: WebAuthn has no relying party for an
// IP address). One context value, set once per render.
type site struct {
	base     string
	passkeys bool
}

type siteKey struct{}

// WithSite returns ctx carrying the mount point base ("/auth", or "" at the root) and
// whether its pages offer passkeys.
func WithSite(ctx context.Context, base string, passkeys bool) context.Context {
	return context.WithValue(ctx, siteKey{}, site{base: base, passkeys: passkeys})
}

// Path is the site path p ("/login") under the mount point that ctx carries.
func Path(ctx context.Context, p string) string {
	s, _ := ctx.Value(siteKey{}).(site)
	return s.base + p
}

// PasskeysOn says whether ctx's pages offer passkeys.
func PasskeysOn(ctx context.Context) bool {
	s, _ := ctx.Value(siteKey{}).(site)
	return s.passkeys
}
