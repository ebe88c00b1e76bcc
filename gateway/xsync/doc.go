// Package xsync holds the Go types of XSYNC, the protobuf client protocol of
// MaxIM / Lanying IM, generated from the .proto files beside this file by
// scripts/protogen.sh. Each WebSocket message of a session is one Frame
// whose payload is the serialized message of its command.
package xsync
