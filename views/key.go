package views

import (
	"encoding/binary"
	"time"
)

// AppendKey appends to b everything the Security page is drawn from in s, each field
// length-prefixed so that no two different views write the same key: two views with
// equal keys draw the same bytes (the base path aside), which is what lets the handler
// keep a page's bytes and answer with them again. Every field of Security and of the
// types it holds is written here (TestKeyCoversEveryField changes each one in turn).
func (s Security) AppendKey(b []byte) []byte {
	b = appendString(b, s.Email)
	b = binary.AppendUvarint(b, uint64(len(s.Sessions)))
	for _, r := range s.Sessions {
		b = appendString(b, r.Handle)
		b = appendString(b, r.Label)
		b = appendString(b, r.Name)
		b = appendString(b, r.OS)
		b = appendString(b, r.Type)
		b = appendString(b, r.IP)
		b = appendString(b, r.Place)
		b = appendTime(b, r.SignedIn)
		b = appendBool(b, r.Current)
		b = appendBool(b, r.ActiveNow)
		b = appendString(b, r.LastActive)
		b = appendBool(b, r.Bound)
		b = appendString(b, r.UsedWithoutKey)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Events)))
	for _, e := range s.Events {
		b = appendString(b, e.Kind)
		b = appendString(b, e.Text)
		b = appendString(b, e.IP)
		b = appendString(b, e.Place)
		b = appendTime(b, e.At)
	}
	b = appendString(b, s.Notice)
	b = appendBool(b, s.ConfirmOpen)
	b = appendString(b, s.Password.Error)
	b = appendString(b, s.Password.Success)
	b = binary.AppendVarint(b, int64(s.RefreshEvery))
	b = binary.AppendVarint(b, s.Seen)
	b = binary.AppendUvarint(b, uint64(len(s.Locks)))
	for _, l := range s.Locks {
		b = appendBool(b, l.Own)
		b = appendString(b, l.Shown)
		b = appendString(b, l.IP)
		b = binary.AppendVarint(b, int64(l.Remaining))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Passkeys)))
	for _, p := range s.Passkeys {
		b = binary.AppendVarint(b, p.ID)
		b = appendString(b, p.Name)
		b = appendString(b, p.Authenticator)
		b = appendString(b, p.AddedDevice)
		b = appendTime(b, p.AddedAt)
		b = appendTime(b, p.LastUsed)
		b = appendBool(b, p.Synced)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendTime writes an instant with the zone it is shown in: the page writes it in that
// zone, under the zone's abbreviation.
func appendTime(b []byte, t time.Time) []byte {
	name, offset := t.Zone()
	b = binary.AppendVarint(b, t.UnixNano())
	b = binary.AppendVarint(b, int64(offset))
	return appendString(b, name)
}
