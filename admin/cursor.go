package admin

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Cursors are opaque to clients: the position of the last item of a page,
// as numbers, base64-encoded. A list answer without a cursor is the last
// page.

func encodeCursor(pos ...int64) string {
	parts := make([]string, len(pos))
	for i, p := range pos {
		parts[i] = strconv.FormatInt(p, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, ".")))
}

// decodeCursor reads a cursor of n numbers; the empty cursor is n zeros
// (the first page). Anything else is a bad parameter.
func decodeCursor(s string, n int) ([]int64, error) {
	out := make([]int64, n)
	if s == "" {
		return out, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	parts := strings.Split(string(b), ".")
	if err != nil || len(parts) != n {
		return nil, badParam("invalid cursor")
	}
	for i, p := range parts {
		if out[i], err = strconv.ParseInt(p, 10, 64); err != nil || out[i] < 0 {
			return nil, badParam("invalid cursor")
		}
	}
	return out, nil
}

// pageQuery reads the cursor (of n numbers) and limit query parameters;
// limit defaults to def and may not exceed max.
func pageQuery(q query, n int, def, max int64) ([]int64, int, error) {
	cur, err := q.str("cursor", false)
	if err != nil {
		return nil, 0, err
	}
	pos, err := decodeCursor(cur, n)
	if err != nil {
		return nil, 0, err
	}
	limit, err := q.int64("limit", false, def)
	if err != nil {
		return nil, 0, err
	}
	if limit < 1 || limit > max {
		return nil, 0, badParam("limit must be from 1 to %d", max)
	}
	return pos, int(limit), nil
}

// nextCursor returns the cursor of the page after one that returned got
// items of a requested limit: empty when the page was the last. Stores
// are asked for limit+1 items so that a full last page is told apart from
// one with more after it; last is the position of the last item kept.
func nextCursor(got, limit int, last ...int64) string {
	if got <= limit {
		return ""
	}
	return encodeCursor(last...)
}
