// Package delivery is imgate's delivery core: it checks and stores what
// users send (in batches that let concurrent sends share a transaction),
// applies message operations, and publishes every stored change on a Bus,
// from which each node's Router pushes it to the local sessions of its
// recipients.
//
// Storage comes first: a message is acknowledged only once it is
// committed, and pushes are best effort on top. A device that misses a
// push (it was slow, reconnecting, or the bus dropped the event) learns of
// the gap from the conversation's sequence numbers and pulls what it
// lacks, so nothing is lost; dedupe by client_mid and transaction_id
// makes resends harmless, so nothing is stored twice.
package delivery
