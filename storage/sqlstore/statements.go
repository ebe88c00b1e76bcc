package sqlstore

import (
	"slices"
	"strings"
)

// maxIn caps the ids one statement takes in an IN list, well under the
// parameter limits of both databases (SQLite's 32766, PostgreSQL's 65535).
const maxIn = 10_000

// columnNames splits a comma-separated column list.
func columnNames(columns string) []string {
	names := strings.Split(columns, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
	}
	return names
}

// values is the named-parameter form of a column list: "a, b" is
// ":a, :b".
func values(columns string) string {
	names := columnNames(columns)
	for i, n := range names {
		names[i] = ":" + n
	}
	return strings.Join(names, ", ")
}

// excludedSet is the DO UPDATE clause of an upsert that overwrites the
// columns with the values proposed for insertion.
func excludedSet(columns string) string {
	names := columnNames(columns)
	for i, n := range names {
		names[i] = n + " = excluded." + n
	}
	return strings.Join(names, ", ")
}

// namedSet assigns each column its named parameter, for updates.
func namedSet(columns string) string {
	names := columnNames(columns)
	for i, n := range names {
		names[i] = n + " = :" + n
	}
	return strings.Join(names, ", ")
}

// distinct returns the ids sorted, each once.
func distinct(ids []int64) []int64 {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}

// inChunks calls fn with consecutive pieces of ids of at most size each,
// stopping at the first error.
func inChunks[T any](ids []T, size int, fn func([]T) error) error {
	for chunk := range slices.Chunk(ids, size) {
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// inOrder returns the items whose keys are in ids, in the order of ids
// and each once, skipping ids with no item.
func inOrder[T any](ids []int64, items []T, key func(T) int64) []T {
	byKey := make(map[int64]T, len(items))
	for _, it := range items {
		byKey[key(it)] = it
	}
	out := make([]T, 0, len(items))
	for _, id := range ids {
		if it, ok := byKey[id]; ok {
			out = append(out, it)
			delete(byKey, id)
		}
	}
	return out
}

// bigintRows is a VALUES list of n rows of cols integer parameters:
// "(CAST(? AS BIGINT), CAST(? AS BIGINT)), (…)". The casts let SQLite and
// PostgreSQL agree on the columns' type when the list is joined with a
// table, as the batched upserts do.
func bigintRows(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("CAST(? AS BIGINT), ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
