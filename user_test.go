package imgate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/imgate/imgate"
)

func TestValidUsername(t *testing.T) {
	for name, ok := range map[string]bool{
		"test_user": true, "A1": true, "_": true, "user123": true,
		"": false, "123": false, "maxim_x": false, "MaximX": false, "mta1": false, "a b": false, "名字": false,
		"ab-c": false, "a_maxim": true, fmt.Sprintf("%064d", 0)[:63] + "a": true, fmt.Sprintf("%065d", 0) + "a": false,
	} {
		err := imgate.ValidUsername(name)
		if (err == nil) != ok {
			t.Errorf("ValidUsername(%q) = %v, want ok %v", name, err, ok)
		}
		if err != nil && imgate.ErrorCode(err) != imgate.CodeInvalidParameter {
			t.Errorf("ValidUsername(%q) code %d, want 10002", name, imgate.ErrorCode(err))
		}
	}
}

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", imgate.Errorf(imgate.CodeUserExists, "taken"))
	for _, c := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, imgate.CodeOK, ""},
		{wrapped, imgate.CodeUserExists, "taken"},
		{errors.New("pq: connection refused"), imgate.CodeStore, "server database exception"},
	} {
		if got := imgate.ErrorCode(c.err); got != c.code {
			t.Errorf("ErrorCode(%v) = %d, want %d", c.err, got, c.code)
		}
		if got := imgate.ErrorMessage(c.err); got != c.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", c.err, got, c.msg)
		}
	}
}
