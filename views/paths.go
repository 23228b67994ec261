package views

import "context"

type baseKey struct{}

// WithBase returns ctx carrying the path Elsewhere is mounted under ("" at the site's
// root), from which every URL the views emit is derived.
func WithBase(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseKey{}, base)
}

// Path is the site path p ("/login") under the mount point that ctx carries.
func Path(ctx context.Context, p string) string {
	base, _ := ctx.Value(baseKey{}).(string)
	return base + p
}

type passkeysKey struct{}

// WithPasskeys returns ctx saying whether passkeys can be used here (the base URL names a
// domain: WebAuthn has no relying party for an IP address).
func WithPasskeys(ctx context.Context, on bool) context.Context {
	return context.WithValue(ctx, passkeysKey{}, on)
}

// PasskeysOn says whether ctx's pages offer passkeys.
func PasskeysOn(ctx context.Context) bool {
	on, _ := ctx.Value(passkeysKey{}).(bool)
	return on
}
