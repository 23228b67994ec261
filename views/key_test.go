package views

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleSecurity is a view with every field set and one of everything in its lists.
func sampleSecurity() Security {
	at := time.Date(2026, 12, 4, 15, 4, 5, 6, time.UTC)
	return Security{
		Email: "a@example.com",
		Sessions: []SessionView{{Handle: "h1", Label: "Firefox 140 on Linux", Name: "Anna's laptop", OS: "Linux",
			Type: "desktop", IP: "203.0.113.7", Place: "Berlin", SignedIn: at, Current: true, ActiveNow: true,
			LastActive: "5 minutes ago", Bound: true, UsedWithoutKey: "just now"}},
		Events:       []EventView{{Kind: "signed_in", Text: "Signed in", IP: "203.0.113.7", Place: "Berlin", At: at}},
		Notice:       "Done.",
		ConfirmOpen:  true,
		Password:     PasswordForm{Error: "no", Success: "yes"},
		RefreshEvery: time.Second,
		Seen:         7,
		Locks:        []LockView{{Own: true, Shown: "Phone", IP: "198.51.100.1", Remaining: time.Minute}},
		Passkeys: []PasskeyView{{ID: 3, Name: "Laptop key", Authenticator: "iCloud Keychain", AddedDevice: "Mac · Safari 26",
			AddedAt: at, LastUsed: at.Add(time.Hour), Synced: true}},
	}
}

// TestKeyCoversEveryField changes every field of the page's view, one at a time (in
// lists, the first element's), and wants a different key each time: a field the key
// left out would let a page be answered with the bytes drawn for another view.
func TestKeyCoversEveryField(t *testing.T) {
	base := sampleSecurity().AppendKey(nil)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(v reflect.Value, path string, leaf func(reflect.Value, string))
	walk = func(v reflect.Value, path string, leaf func(reflect.Value, string)) {
		switch {
		case v.Type() == reflect.TypeOf(time.Time{}):
			leaf(v, path)
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name, leaf)
			}
		case v.Kind() == reflect.Slice:
			leaf(v, path+"(len)")
			walk(v.Index(0), path+"[0]", leaf)
		default:
			leaf(v, path)
		}
	}
	s0 := sampleSecurity()
	walk(reflect.ValueOf(&s0).Elem(), "Security", func(_ reflect.Value, p string) { paths = append(paths, p) })
	for _, p := range paths {
		mutations := []string{"value"}
		if strings.HasSuffix(p, "SignedIn") || strings.HasSuffix(p, ".At") || strings.HasSuffix(p, "AddedAt") || strings.HasSuffix(p, "LastUsed") {
			mutations = append(mutations, "zone")
		}
		for _, m := range mutations {
			s := sampleSecurity()
			found := false
			walk(reflect.ValueOf(&s).Elem(), "Security", func(v reflect.Value, q string) {
				if q != p {
					return
				}
				found = true
				switch {
				case v.Type() == reflect.TypeOf(time.Time{}):
					tm := v.Interface().(time.Time)
					if m == "zone" {
						v.Set(reflect.ValueOf(tm.In(berlin)))
					} else {
						v.Set(reflect.ValueOf(tm.Add(time.Second)))
					}
				case v.Kind() == reflect.Slice:
					v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
				case v.Kind() == reflect.String:
					v.SetString(v.String() + "x")
				case v.Kind() == reflect.Bool:
					v.SetBool(!v.Bool())
				case v.CanInt():
					v.SetInt(v.Int() + 1)
				default:
					t.Fatalf("%s: a %s: teach this test (and AppendKey) about it", q, v.Type())
				}
			})
			if !found {
				t.Fatalf("%s: not found again", p)
			}
			if bytes.Equal(s.AppendKey(nil), base) {
				t.Errorf("changing %s (%s) leaves the key as it was", p, m)
			}
		}
	}
	if len(paths) < 30 {
		t.Fatalf("walked only %d fields", len(paths))
	}
}

// TestKeyIsNotAmbiguous: strings are length-prefixed, so moving text from one field to
// the next changes the key.
func TestKeyIsNotAmbiguous(t *testing.T) {
	a, b := sampleSecurity(), sampleSecurity()
	a.Sessions[0].Label, a.Sessions[0].Name = "ab", "c"
	b.Sessions[0].Label, b.Sessions[0].Name = "a", "bc"
	if bytes.Equal(a.AppendKey(nil), b.AppendKey(nil)) {
		t.Fatal("two views with text moved between fields have one key")
	}
}
