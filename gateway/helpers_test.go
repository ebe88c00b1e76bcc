package gateway_test

import (
	"strconv"

	"google.golang.org/protobuf/proto"
)

func jsonNum(n uint64) string { return strconv.FormatUint(n, 10) }

func protoUnmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }
