package target

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodeOrderRequest: the strict decoder never panics, and whatever it
// accepts re-encodes to JSON that decodes to the same value.
func FuzzDecodeOrderRequest(f *testing.F) {
	for _, seed := range []string{
		`{"request_id":"r1","items":[{"sku":"a","qty":1}]}`,
		`{"request_id":"r1","items":[]}`,
		`{"request_id":"r1","items":[{"sku":"a","qty":1}]}{}`,
		`{"request_id":1}`,
		`{"extra":true}`,
		`[]`, `null`, ``, `{"items":[{"sku":"\u0000","qty":-1}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in orderRequest
		if err := decodeBody(bytes.NewReader(data), &in); err != nil {
			return
		}
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("accepted input does not re-encode: %v", err)
		}
		var again orderRequest
		if err := decodeBody(bytes.NewReader(raw), &again); err != nil {
			t.Fatalf("re-encoded input refused: %v (%s)", err, raw)
		}
		_ = validateItems(in.Items, false)
	})
}

// FuzzParseToken: no input panics the verifier, and the only tokens it
// accepts are ones this key signed for this subject and session.
func FuzzParseToken(f *testing.F) {
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	cfg := testConfig("redis://unused", "n")
	tk, err := newTokens(cfg, now)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := tk.issue("u1", "s1")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		valid, "", ".", "..", "a.b.c",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.",
		valid[:len(valid)-2], valid + "x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, code := tk.parse(raw)
		if code != "" {
			return
		}
		if c.Subject != "u1" || c.SessionID != "s1" {
			t.Fatalf("accepted a token this key never issued: %q", raw)
		}
	})
}
