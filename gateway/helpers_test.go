package gateway_test

import (
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/proto"
)

func jsonNum(n uint64) string { return strconv.FormatUint(n, 10) }

func protoUnmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
