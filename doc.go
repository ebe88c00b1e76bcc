// Package imgate holds the domain of the imgate IM gateway: the ids and
// records it stores (apps, tokens, users, devices), MaxIM's error codes, and
// the Store contract that the storage packages implement.
//
// Subpackages talk to each other only in these types: admin serves the REST
// API, storage/postgres and storage/embedded implement Store, and cmd/imgate
// wires them together.
package imgate
