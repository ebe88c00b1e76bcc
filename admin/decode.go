package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/imgate/imgate"
)

// id is an int64 in a request body. MaxIM's JS SDK sends ids as strings,
// so both 123 and "123" are accepted; anything else is a bad parameter.
type id int64

// UnmarshalJSON accepts a JSON number or a string of digits.
func (i *id) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if len(b) > 1 && b[0] == '"' && b[len(b)-1] != '"' {
		return fmt.Errorf("bad id %s", b)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("bad id %s", b)
	}
	*i = id(n)
	return nil
}

func ids(in []id) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

func badParam(format string, args ...any) error {
	return imgate.Errorf(imgate.CodeInvalidParameter, format, args...)
}

// readBody reads the request body within the size limit.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, badParam("request body over %d bytes", s.cfg.MaxBodyBytes)
	} else if err != nil {
		return nil, badParam("read request body: %v", err)
	}
	return b, nil
}

// decode reads a JSON body into v. Malformed JSON, wrong types, an empty
// body and trailing data are all bad parameters; unknown fields are
// ignored, as newer clients may send more than imgate knows.
func (s *Server) decode(r *http.Request, v any) error {
	b, err := s.readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return badParam("request body is empty")
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	if hasNULEscape(b) {
		// Postgres cannot store NUL in text, so neither store takes it.
		return badParam("invalid request body: strings may not contain NUL (\\u0000)")
	}
	// A body that is one value and nothing more, as clients send, decodes
	// in one pass without a Decoder's copy of it. Any other takes the
	// Decoder, whose errors (and leniency after the value) are the API's.
	if json.Unmarshal(b, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return badParam("invalid request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return badParam("invalid request body: data after the JSON value")
	}
	return nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// decodeText reads a body that the Swagger gives as a bare string: either
// a JSON string or the raw text itself.
func (s *Server) decodeText(r *http.Request, limit int) (string, error) {
	b, err := s.readBody(r)
	if err != nil {
		return "", err
	}
	text := string(b)
	var js string
	if json.Unmarshal(b, &js) == nil {
		text = js
	}
	return text, checkBytes("info", text, limit)
}

// query is a typed view of the URL query of one request.
type query struct{ r *http.Request }

func (q query) has(name string) bool { return q.r.URL.Query().Has(name) }

func (q query) str(name string, required bool) (string, error) {
	v := q.r.URL.Query().Get(name)
	if required && !q.has(name) {
		return "", badParam("missing query parameter %s", name)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "", badParam("query parameter %s contains NUL", name)
	}
	return v, nil
}

func (q query) int64(name string, required bool, def int64) (int64, error) {
	v, err := q.str(name, required)
	if err != nil {
		return 0, err
	}
	if v == "" {
		if required {
			return 0, badParam("query parameter %s is empty", name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil {
		return 0, badParam("query parameter %s must be an integer", name)
	}
	return n, nil
}

func (q query) intIn(name string, lo, hi int64) (int, error) {
	n, err := q.int64(name, true, 0)
	if err != nil {
		return 0, err
	}
	if n < lo || n > hi {
		return 0, badParam("query parameter %s must be from %d to %d", name, lo, hi)
	}
	return int(n), nil
}

func (q query) bool(name string) (bool, error) {
	v, err := q.str(name, true)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, badParam("query parameter %s must be true or false", name)
}

// decodeIDs reads a body whose field holds the list of ids a request acts
// on, such as {"list":[…]} or {"group_list":[…]}: the list must not be
// empty nor longer than Config.MaxListLen. Other fields are ignored.
func (s *Server) decodeIDs(r *http.Request, field string) ([]int64, error) {
	var body map[string]json.RawMessage
	if err := s.decode(r, &body); err != nil {
		return nil, err
	}
	var list []id
	if raw, ok := body[field]; ok {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, badParam("%s must be a list of ids", field)
		}
	}
	if err := s.checkList(field, len(list)); err != nil {
		return nil, err
	}
	return ids(list), nil
}

// hasNULEscape reports whether JSON text holds the escape \u0000, that is
// "u0000" after an odd run of backslashes (an even run is an escaped
// backslash followed by plain text). Raw NUL bytes are invalid JSON anyway.
func hasNULEscape(b []byte) bool {
	for i := bytes.Index(b, []byte("u0000")); i >= 0; {
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		next := bytes.Index(b[i+1:], []byte("u0000"))
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}
