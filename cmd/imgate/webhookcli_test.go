package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppUpdateWebhook: app update sets what it is given and keeps the
// rest; app list shows the URL and events, never the secrets; bad input
// is refused with a reason.
func TestAppUpdateWebhook(t *testing.T) {
	c := cli{t: t, env: map[string]string{"IMGATE_DATA_DIR": dataDir(t)}}
	c.must("app", "create", "--id", "hookapp", "--name", "h")
	c.must("app", "update", "--id", "hookapp", "--webhook-url", "https://bots.example.com/m",
		"--webhook-secret", "s3cret-value", "--callback-signature", "sig-value")
	c.must("app", "update", "--id", "hookapp", "--webhook-events", "message,user.deleted")
	out := c.must("app", "list")
	var line struct {
		URL       string   `json:"webhook_url"`
		Events    []string `json:"webhook_events"`
		Secret    bool     `json:"webhook_secret_set"`
		Signature bool     `json:"callback_signature_set"`
		Waiting   *int     `json:"webhook_outbox_events"`
	}
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatalf("app list: %s", out)
	}
	if line.URL != "https://bots.example.com/m" || strings.Join(line.Events, ",") != "message,user.deleted" ||
		!line.Secret || !line.Signature || line.Waiting == nil {
		t.Errorf("app list: %s", out)
	}
	if strings.Contains(out, "s3cret-value") || strings.Contains(out, "sig-value") {
		t.Errorf("app list shows a secret: %s", out)
	}
	for _, bad := range [][]string{
		{"--id", "hookapp", "--webhook-url", "ftp://x"},
		{"--id", "hookapp", "--webhook-url", "not a url"},
		{"--id", "hookapp", "--webhook-events", "message,typing"},
		{"--id", "nosuchapp", "--webhook-url", "https://x"},
		{"--webhook-url", "https://x"},
	} {
		if _, err := c.run(append([]string{"app", "update"}, bad...)...); err == nil {
			t.Errorf("app update %v was taken", bad)
		}
	}
}
