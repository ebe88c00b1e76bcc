package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/auth"
)

func TestSources(t *testing.T) {
	tests := []struct {
		name, header string
		set          map[string][]string
		want         string
	}{
		{"connection", "", map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "192.0.2.1"},
		{"forwarded, last entry", "X-Forwarded-For", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 1.1.1.1", "2.2.2.2"}}, "2.2.2.2"},
		{"real ip", "X-Real-IP", map[string][]string{"X-Real-Ip": {"3.3.3.3"}}, "3.3.3.3"},
		{"header missing", "X-Real-IP", nil, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := auth.Sources(tt.header, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = auth.SourceOf(r) }))
			r := httptest.NewRequest("GET", "/", nil) // RemoteAddr 192.0.2.1:1234
			for k, v := range tt.set {
				r.Header[k] = v
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tt.want {
				t.Errorf("source = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPasswordsTrackedBound: the failures of at most MaxTracked users
// and sources are kept; a flood of names does not grow them past it.
func TestPasswordsTrackedBound(t *testing.T) {
	p := auth.NewPasswords(auth.PasswordConfig{Cost: 4, MaxTracked: 20, UserFailures: 1, SourceFailures: 1000}, nil, nil)
	for i := range 100 {
		err := p.Check(context.Background(), auth.Attempt{App: "a", Name: fmt.Sprint("u", i), Source: "s", Password: "x"})
		if imgate.ErrorCode(err) != imgate.CodeForbidden {
			t.Fatalf("attempt %d: %v, want a wrong password", i, err)
		}
	}
	if n := p.Tracked(); n > 20 {
		t.Errorf("%d records kept, want at most 20", n)
	}
	// The newest name is still backing off.
	err := p.Check(context.Background(), auth.Attempt{App: "a", Name: "u99", Password: "x"})
	if imgate.ErrorCode(err) != imgate.CodeTooManyAttempts {
		t.Errorf("the last name failed just now: %v, want %d", err, imgate.CodeTooManyAttempts)
	}
}
