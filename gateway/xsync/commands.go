package xsync

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// NewUp returns an empty message of what a client sends with the
// command; NewDown of what a server sends. PROVISION and NOTICE carry the
// same message both ways.
func NewUp(cmd Frame_Command) (proto.Message, error) {
	switch cmd {
	case Frame_PROVISION:
		return &Provision{}, nil
	case Frame_UNREAD:
		return &UnreadUL{}, nil
	case Frame_SYNC:
		return &SyncUL{}, nil
	case Frame_NOTICE:
		return &Notice{}, nil
	}
	return nil, fmt.Errorf("xsync: unknown command %d", cmd)
}

// NewDown returns an empty message of what a server sends with the
// command.
func NewDown(cmd Frame_Command) (proto.Message, error) {
	switch cmd {
	case Frame_PROVISION:
		return &Provision{}, nil
	case Frame_UNREAD:
		return &UnreadDL{}, nil
	case Frame_SYNC:
		return &SyncDL{}, nil
	case Frame_NOTICE:
		return &Notice{}, nil
	}
	return nil, fmt.Errorf("xsync: unknown command %d", cmd)
}
