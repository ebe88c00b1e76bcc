package imgate

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Webhook is where an app's events go: imgate POSTs each to URL, signed
// with an HMAC-SHA256 of the body under Secret and, as MaxIM does,
// carrying CallbackSignature in a "signature" header. A webhook without a
// URL sends nothing.
type Webhook struct {
	URL               string
	Secret            string
	CallbackSignature string
	// Events are the event types to send; none with a URL means
	// EventMessage alone.
	Events []EventType
}

// EventType names what an event reports.
type EventType string

// The event types. A message's event is MaxIM's message callback; the
// others are imgate's own.
const (
	EventMessage       EventType = "message"        // a chat or group message was sent
	EventMessageRecall EventType = "message.recall" // a message was recalled
	EventMessageEdit   EventType = "message.edit"   // a message was appended to or replaced
	EventUserCreated   EventType = "user.created"   // a user registered or was created
	EventUserDeleted   EventType = "user.deleted"   // a user was deleted
)

// EventTypes are all the event types, in the order the CLI lists them.
var EventTypes = []EventType{EventMessage, EventMessageRecall, EventMessageEdit, EventUserCreated, EventUserDeleted}

// ParseEventTypes parses a comma-separated list of event types; "all"
// stands for every type.
func ParseEventTypes(list string) ([]EventType, error) {
	var out []EventType
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "all":
			return slices.Clone(EventTypes), nil
		case !slices.Contains(EventTypes, EventType(name)):
			return nil, Errorf(CodeInvalidParameter, "unknown event type %q", name)
		}
		if !slices.Contains(out, EventType(name)) {
			out = append(out, EventType(name))
		}
	}
	return out, nil
}

// Sends reports whether the webhook sends events of the type.
func (w Webhook) Sends(t EventType) bool {
	if w.URL == "" {
		return false
	}
	if len(w.Events) == 0 {
		return t == EventMessage
	}
	return slices.Contains(w.Events, t)
}

// Event is one event in the durable outbox: written in the transaction of
// the change it reports, deleted once its webhook answered 2xx.
type Event struct {
	ID    int64 // increases in commit order within an ordering key
	AppID string
	Type  EventType
	// Key orders events: those of one key are sent one at a time, in id
	// order (a conversation's messages, a user's changes).
	Key string
	// Data is the event's JSON: a Message for message events, a User for
	// user events.
	Data      []byte
	CreatedAt time.Time
	// Attempts counts the failed sends so far.
	Attempts int
}

// EventClaim asks ClaimEvents for events to send.
type EventClaim struct {
	Now time.Time
	// Lease is how long the claimed events are the claimer's: no other
	// claim returns them before Now+Lease unless they are released.
	Lease time.Duration
	Limit int
	// SkipApps are apps whose events the claim leaves alone: the
	// claimer has as many calls of theirs in flight as it allows, and
	// their events must not crowd out other apps'.
	SkipApps []string
}

// OutboxStats counts an app's events waiting in the outbox.
type OutboxStats struct {
	AppID   string
	Pending int64     // events waiting to be sent, parked ones included
	Parked  int64     // events that failed at least the parking number of times
	Oldest  time.Time // when the oldest waiting event was written; zero if none
}

// OutboxStore is the durable outbox of webhook events. Events of an app
// whose webhook sends their type are written by the store's own writes
// (AppendMessages, CreateUser, DeleteUser) in their transaction.
type OutboxStore interface {
	// SetWebhook sets the app's webhook and makes its parked events due
	// at once: CodeUnknownApp. A running node's store sees a change made
	// by another process within WebhookConfigTTL.
	SetWebhook(ctx context.Context, appID string, w Webhook) error
	// ClaimEvents leases at most c.Limit due events whose lease has run
	// out, each the oldest event of its ordering key, oldest first. Two
	// claims never return one event while its lease runs.
	ClaimEvents(ctx context.Context, c EventClaim) ([]Event, error)
	// DeleteEvents removes sent events.
	DeleteEvents(ctx context.Context, ids []int64) error
	// RetryEvent records a failed send: the event's attempts become
	// attempts, it is due again at next, and its lease ends.
	RetryEvent(ctx context.Context, id int64, attempts int, next time.Time, reason string) error
	// ReleaseEvents ends the lease of claimed events not sent, leaving
	// their attempts as they are.
	ReleaseEvents(ctx context.Context, ids []int64) error
	// WakeEvents makes due at now the app's events that failed at least
	// parked times: the endpoint answers again.
	WakeEvents(ctx context.Context, appID string, parked int, now time.Time) error
	// OutboxStats counts each app's waiting events, of apps that have
	// any; an event counts as parked after parked failures.
	OutboxStats(ctx context.Context, parked int) ([]OutboxStats, error)
}

// WebhookConfigTTL bounds how long a node's store keeps writing events by
// an app's webhook configuration as it read it: a change made by another
// process (the CLI) takes effect within it.
const WebhookConfigTTL = 5 * time.Second

// UserEvent is the data of a user's events.
type UserEvent struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username,omitempty"`
}
