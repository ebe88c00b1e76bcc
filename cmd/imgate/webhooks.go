package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/imgate/imgate"
	"github.com/imgate/imgate/webhook"
)

// webhookFlags are app update's webhook settings, and the parking
// threshold app list counts parked events by.
type webhookFlags struct {
	url, secret, signature, events string
	parkAfter                      int
}

func (e env) webhookFlags(fs *flagSet) *webhookFlags {
	var w webhookFlags
	fs.StringVar(&w.url, "webhook-url", "", "app update: the http(s) URL the app's events are POSTed to; empty: none")
	fs.StringVar(&w.secret, "webhook-secret", "", "app update: the secret of the events' HMAC-SHA256 signature (header X-Imgate-Signature); kept in the store in clear")
	fs.StringVar(&w.signature, "callback-signature", "", "app update: MaxIM's callback signature, sent as is in the header \"signature\"; kept in the store in clear")
	fs.StringVar(&w.events, "webhook-events", "", "app update: comma-separated event types to send ("+eventTypeList()+", or all); empty: message")
	fs.intVar(&w.parkAfter, "webhook-park-after", "IMGATE_WEBHOOK_PARK_AFTER", 10, "failed calls after which an event counts as parked")
	return &w
}

func eventTypeList() string {
	names := make([]string, len(imgate.EventTypes))
	for i, t := range imgate.EventTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// updateApp changes the webhook settings given on the command line and
// keeps the others.
func (a adminCmd) updateApp(ctx context.Context, id string, fs *flagSet, f *webhookFlags) error {
	if id == "" {
		return fmt.Errorf("app update: --id is required")
	}
	app, err := a.store.App(ctx, id)
	if err != nil {
		return fmt.Errorf("app update: %w", err)
	}
	w := app.Webhook
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "webhook-url":
			w.URL = f.url
		case "webhook-secret":
			w.Secret = f.secret
		case "callback-signature":
			w.CallbackSignature = f.signature
		case "webhook-events":
			w.Events, bad = imgate.ParseEventTypes(f.events)
		}
	})
	if bad != nil {
		return fmt.Errorf("app update: --webhook-events: %w", bad)
	}
	if err := checkWebhookURL(w.URL); err != nil {
		return fmt.Errorf("app update: --webhook-url: %w", err)
	}
	if err := a.store.SetWebhook(ctx, id, w); err != nil {
		return fmt.Errorf("app update: %w", err)
	}
	return nil
}

func checkWebhookURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// webhookLine is an app's webhook in app list: never its secrets, only
// whether it has them, and what waits in its outbox.
type webhookLine struct {
	WebhookURL        string   `json:"webhook_url,omitempty"`
	WebhookEvents     []string `json:"webhook_events,omitempty"`
	WebhookSecret     bool     `json:"webhook_secret_set"`
	CallbackSignature bool     `json:"callback_signature_set"`
	OutboxPending     int64    `json:"webhook_outbox_events"`
	OutboxParked      int64    `json:"webhook_outbox_parked"`
	OutboxOldest      int64    `json:"webhook_outbox_oldest_ms,omitempty"`
}

func newWebhookLine(w imgate.Webhook, s imgate.OutboxStats) webhookLine {
	l := webhookLine{WebhookURL: w.URL, WebhookSecret: w.Secret != "", CallbackSignature: w.CallbackSignature != "",
		OutboxPending: s.Pending, OutboxParked: s.Parked}
	if w.URL != "" {
		for _, t := range imgate.EventTypes {
			if w.Sends(t) {
				l.WebhookEvents = append(l.WebhookEvents, string(t))
			}
		}
	}
	if !s.Oldest.IsZero() {
		l.OutboxOldest = s.Oldest.UnixMilli()
	}
	return l
}

// webhookServeFlags are serve's dispatcher settings.
func webhookServeFlags(fs *flagSet, c *webhook.Config) {
	fs.durationVar(&c.Timeout, "webhook-timeout", "IMGATE_WEBHOOK_TIMEOUT", 10*time.Second, "how long one webhook call may take")
	fs.durationVar(&c.Lease, "webhook-lease", "IMGATE_WEBHOOK_LEASE", 0, "how long an event a node claimed is that node's; a node killed mid-call leaves its events to the others (or to itself, restarted) after it; 0: --webhook-timeout plus 20s")
	fs.intVar(&c.PerApp, "webhook-per-app", "IMGATE_WEBHOOK_PER_APP", 4, "webhook calls of one app in flight at once, per node")
	fs.intVar(&c.InFlight, "webhook-concurrency", "IMGATE_WEBHOOK_CONCURRENCY", 64, "webhook calls in flight at once, per node")
	fs.durationVar(&c.MinBackOff, "webhook-backoff", "IMGATE_WEBHOOK_BACKOFF", time.Second, "pause before a failed event's first retry; doubles with each failure, with jitter")
	fs.durationVar(&c.MaxBackOff, "webhook-backoff-max", "IMGATE_WEBHOOK_BACKOFF_MAX", 5*time.Minute, "longest pause between retries, and between tries of a parked event")
	fs.intVar(&c.ParkAfter, "webhook-park-after", "IMGATE_WEBHOOK_PARK_AFTER", 10, "failed calls after which an event is parked: tried every --webhook-backoff-max until a call of its app succeeds, which makes the app's parked events due at once")
	fs.durationVar(&c.Poll, "webhook-poll", "IMGATE_WEBHOOK_POLL", 200*time.Millisecond, "pause between looks at an outbox found empty")
}
