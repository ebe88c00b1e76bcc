package webhook_test

import (
	"testing"
	"time"

	"github.com/imgate/imgate/webhook"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"appId":"a"}`)
	header := webhook.Sign("secret", now, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   string
		at     time.Time
		ok     bool
	}{
		{"as signed", "secret", header, string(body), now, true},
		{"a minute later", "secret", header, string(body), now.Add(time.Minute), true},
		{"another secret", "other", header, string(body), now, false},
		{"another body", "secret", header, `{"appId":"b"}`, now, false},
		{"replayed late", "secret", header, string(body), now.Add(10 * time.Minute), false},
		{"no timestamp", "secret", "v1=00", string(body), now, false},
		{"no header", "secret", "", string(body), now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, []byte(tc.body), tc.at, 5*time.Minute)
			if (err == nil) != tc.ok {
				t.Errorf("Verify = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
