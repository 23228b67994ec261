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
